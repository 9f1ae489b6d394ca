//! `[security]` values that box refuses or warns about, as `box validate` reports them: each
//! error is one line naming box.toml's line, column and key (and, for a seccomp profile, the
//! profile file and its entry). Nothing here starts a container. Paths and host limits in
//! messages are replaced by `[DIR]` / `[HARD]` so the snapshots hold on any machine.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;

use box_security::{detect_lsms, CapSet, Capability};
use common::validate;

/// A box.toml running `/bin/true` with this `[security]` table body.
fn with_security(body: &str) -> String {
    format!("name = \"web\"\ncommand = [\"/bin/true\"]\n[security]\n{body}\n")
}

fn with_profile(profile: &str) -> String {
    validate(
        &with_security("seccomp = \"profile.json\""),
        &[("profile.json", profile)],
    )
}

/// A field of this process's `/proc/self/status` (box, started by this test, sees the same).
fn status_mask(field: &str) -> CapSet {
    let status = std::fs::read_to_string("/proc/self/status").expect("read status");
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .expect("field in status");
    CapSet::from_bits(u64::from_str_radix(value.trim(), 16).expect("hex mask"))
}

#[test]
fn good_security_settings_pass() {
    insta::assert_snapshot!(validate(
        &with_security(
            "capabilities = { drop = [\"ALL\"], add = [\"net_bind_service\", \"CAP_CHOWN\"] }\n\
             no_new_privileges = true\nseccomp = \"unconfined\"\nrlimits = { nofile = 1024, core = [0, 0] }"
        ),
        &[]
    ));
}

#[test]
fn an_unknown_capability_names_its_entry() {
    insta::assert_snapshot!(
        "unknown_capability_inline",
        validate(
            &with_security("capabilities = { add = [\"NET_ADMIN\", \"CAP_FLY\"] }"),
            &[]
        )
    );
    insta::assert_snapshot!(
        "unknown_capability_typo",
        validate(
            &with_security(
                "[security.capabilities]\ndrop = [\"ALL\"]\nadd = [\"NET_BIND_SERVIC\"]"
            ),
            &[]
        )
    );
    insta::assert_snapshot!(
        "unknown_capability_in_drop",
        validate(
            &with_security("capabilities = { drop = [\"cap_net_raw\", \"cap_sys_amdin\"] }"),
            &[]
        )
    );
}

/// `box validate` of `box_toml` as on a host whose bounding set lacks CAP_SYS_RESOURCE (this CI
/// machine's does), on any host: as root, box runs with it dropped from its bounding set, so
/// that no set of box's holds it after execve. (A non-root box has no effective capabilities,
/// and cannot drop from its bounding set.)
fn validate_without_sys_resource(box_toml: &str) -> String {
    common::run_box_with(
        &["validate", "box.toml"],
        &[("box.toml", box_toml)],
        |cmd| {
            if !nix::unistd::geteuid().is_root() {
                return;
            }
            let cap = libc::c_ulong::from(Capability::CAP_SYS_RESOURCE.index());
            // SAFETY: between fork and exec only prctl runs, an async-signal-safe syscall.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                })
            };
        },
    )
}

#[test]
#[ignore = "needs root: drops CAP_SYS_RESOURCE from box's bounding set"]
fn a_capability_the_host_lacks_cannot_be_added() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: drops CAP_SYS_RESOURCE from box's bounding set"
    );
    insta::assert_snapshot!(validate_without_sys_resource(&with_security(
        "capabilities = { add = [\"CHOWN\", \"SYS_RESOURCE\"] }"
    )));
}

#[test]
fn an_unknown_rlimit_names_its_key() {
    insta::assert_snapshot!(
        "unknown_rlimit",
        validate(
            &with_security("rlimits = { nofile = 1024, open_files = 10 }"),
            &[]
        )
    );
    insta::assert_snapshot!(
        "unknown_rlimit_typo",
        validate(&with_security("[security.rlimits]\nnofiles = 1024"), &[])
    );
    insta::assert_snapshot!(
        "rlimit_given_twice",
        validate(
            &with_security("rlimits = { nofile = 1024, RLIMIT_NOFILE = 10 }"),
            &[]
        )
    );
}

#[test]
fn a_hard_rlimit_above_the_hosts_is_refused() {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read limits");
    let hard = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .expect("Max open files line")
        .to_string();
    // RLIMIT_NOFILE is never "unlimited": the kernel caps it at fs.nr_open.
    let hard_n: u64 = hard.parse().expect("a number");
    let text = validate_without_sys_resource(&with_security(&format!(
        "rlimits = {{ nofile = [1024, {}] }}",
        hard_n + 1
    )));
    let text = text
        .replace(&format!("{} is above", hard_n + 1), "[HARD+1] is above")
        .replace(&format!("hard limit {hard};"), "hard limit [HARD];");
    insta::assert_snapshot!(text);
}

#[test]
fn a_malformed_profile_names_the_profile_and_where() {
    insta::assert_snapshot!(
        "profile_syntax",
        with_profile("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [,]\n}\n")
    );
    insta::assert_snapshot!(
        "profile_wrong_type",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":"mkdir","action":"SCMP_ACT_ERRNO"}]}"#
        )
    );
    insta::assert_snapshot!(
        "profile_unknown_action",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_FOO"}]}"#
        )
    );
    insta::assert_snapshot!(
        "profile_missing",
        validate(&with_security("seccomp = \"nope.json\""), &[])
    );
}

#[test]
fn an_unsupported_profile_feature_names_the_profile_and_entry() {
    insta::assert_snapshot!(
        "profile_notify",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#
        )
    );
    insta::assert_snapshot!(
        "profile_listener",
        with_profile(r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock"}"#)
    );
    // Found when the profile is evaluated for this container, not when it is parsed.
    insta::assert_snapshot!(
        "profile_unknown_syscall",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdri"],"action":"SCMP_ACT_ERRNO"}]}"#
        )
    );
    insta::assert_snapshot!(
        "profile_without_execve",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}"#
        )
    );
}

#[test]
fn an_lsm_the_host_does_not_run_is_an_error() {
    let lsms = detect_lsms(Path::new("/"));
    if !lsms.apparmor {
        insta::assert_snapshot!(
            "apparmor_unavailable",
            validate(&with_security("apparmor = \"docker-default\""), &[])
        );
    }
    if !lsms.selinux {
        insta::assert_snapshot!(
            "selinux_unavailable",
            validate(
                &with_security("selinux_label = \"system_u:system_r:container_t:s0\""),
                &[]
            )
        );
    }
}

#[test]
#[ignore = "needs root: drops CAP_SYS_RESOURCE from box's bounding set"]
fn adding_all_warns_about_what_the_host_lacks() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: drops CAP_SYS_RESOURCE from box's bounding set"
    );
    // The snapshot names CAP_SYS_RESOURCE alone: the test's bounding set must hold the rest.
    let others =
        status_mask("CapBnd:").union(CapSet::from_bits(Capability::CAP_SYS_RESOURCE.bitmask()));
    assert_eq!(others, CapSet::all(), "this test needs a full bounding set");
    insta::assert_snapshot!(
        "warning_add_all",
        validate_without_sys_resource(&with_security("capabilities = { add = [\"ALL\"] }"))
    );
}

#[test]
fn warnings_are_printed_and_validation_passes() {
    #[cfg(target_arch = "x86_64")]
    insta::assert_snapshot!(
        "warning_compat_abi",
        with_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
                "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#
        )
    );
}
