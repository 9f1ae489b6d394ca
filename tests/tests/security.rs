//! The security layer end to end: what the kernel reports inside a container started by the
//! real `box` binary — capability sets, seccomp mode, no_new_privs, refused syscalls, rlimits.
//! A small probe (`box-probe`, built by cargo with these tests) is bind-mounted in to make the
//! syscalls and print their errnos.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use box_tests::{ok, stderr, without_sys_resource, Case};

const DOCKER_DEFAULT_CAPS: &str = "00000000a80425fb";
const NO_CAPS: &str = "0000000000000000";
/// CAP_NET_BIND_SERVICE (10) alone.
const NET_BIND_SERVICE: &str = "0000000000000400";

fn probe() -> &'static str {
    env!("CARGO_BIN_EXE_box-probe")
}

/// A TOML array of strings.
fn array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A case running `command`, with `top` (top-level keys), `[security]` = `security`, the probe
/// read-only at `/probe` and each `(host file, container path)` of `binds` bind-mounted in.
fn case(
    prefix: &str,
    command: &[&str],
    top: &str,
    security: &str,
    binds: &[(&Path, &str)],
) -> Case {
    let mut body = format!(
        "command = {}\n{top}\n[security]\n{security}\n",
        array(command)
    );
    let probe = [(Path::new(probe()), "/probe")];
    for (readonly, (source, target)) in probe
        .iter()
        .map(|b| (true, b))
        .chain(binds.iter().map(|b| (false, b)))
    {
        body.push_str(&format!(
            "[[mounts]]\ntype = \"bind\"\nsource = {:?}\ntarget = {target:?}\nreadonly = {readonly}\n",
            source.display().to_string()
        ));
    }
    Case::new(prefix, &body)
}

/// Runs the case, expects success, and returns the probe's `NAME: VALUE` lines.
fn run(case: &Case) -> HashMap<String, String> {
    let out = ok(&case.up());
    case.assert_nothing_left();
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn get<'a>(report: &'a HashMap<String, String>, key: &str) -> &'a str {
    report
        .get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {key:?} in {report:?}"))
}

fn errno(n: i32) -> String {
    n.to_string()
}

#[test]
fn defaults_match_dockers_capabilities_and_seccomp() {
    let r = run(&case("sec-default", &["/probe", "status"], "", "", &[]));
    for (key, want) in [
        ("CapInh", NO_CAPS),
        ("CapPrm", DOCKER_DEFAULT_CAPS),
        ("CapEff", DOCKER_DEFAULT_CAPS),
        ("CapBnd", DOCKER_DEFAULT_CAPS),
        ("CapAmb", NO_CAPS),
        ("NoNewPrivs", "0"),
        ("Seccomp", "2"),
    ] {
        assert_eq!(get(&r, key), want, "{key}: {r:?}");
    }
}

#[test]
fn defaults_refuse_dangerous_syscalls_with_eperm() {
    let r = run(&case("sec-denied", &["/probe", "denied"], "", "", &[]));
    for name in [
        "mount",
        "unshare(CLONE_NEWUSER)",
        "keyctl",
        "kexec_load",
        "reboot",
    ] {
        assert_eq!(get(&r, name), errno(libc::EPERM), "{name}: {r:?}");
    }
}

#[test]
fn defaults_refuse_ptrace_of_a_more_privileged_process() {
    // The host's pid namespace, so the probe's parent is box itself (all capabilities).
    let r = run(&case(
        "sec-ptrace",
        &["/probe", "ptrace-parent"],
        "[namespaces]\npid = \"host\"",
        "",
        &[],
    ));
    assert_eq!(get(&r, "ptrace"), errno(libc::EPERM), "{r:?}");
}

#[test]
fn defaults_refuse_unshare_of_a_user_namespace_from_the_shell() {
    // util-linux from the host's /usr (rootfs = "host").
    assert!(
        Path::new("/usr/bin/unshare").exists(),
        "/usr/bin/unshare is missing: `cargo xtask test` installs util-linux"
    );
    let c = case(
        "sec-unshare",
        &["/usr/bin/unshare", "-U", "/bin/true"],
        "",
        "",
        &[],
    );
    let out = c.up();
    assert_ne!(out.status.code(), Some(0), "unshare -U succeeded");
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    c.assert_nothing_left();
}

#[test]
fn root_without_net_bind_service_cannot_bind_port_80() {
    // A new network namespace: port 80 of the host is never touched.
    let net = "[namespaces]\nnet = \"new\"";
    let r = run(&case(
        "sec-nbs-drop",
        &["/probe", "bind", "80"],
        net,
        "capabilities = { drop = [\"NET_BIND_SERVICE\"] }",
        &[],
    ));
    assert_eq!(get(&r, "bind 80"), errno(libc::EACCES), "{r:?}");
    let r = run(&case("sec-nbs", &["/probe", "bind", "80"], net, "", &[]));
    assert_eq!(get(&r, "bind 80"), "0", "with the defaults root can: {r:?}");
}

#[test]
fn drop_all_empties_every_set_and_root_cannot_chown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-mine");
    std::fs::write(&file, "x").expect("write");
    std::os::unix::fs::chown(&file, Some(4321), Some(4321)).expect("chown");
    let r = run(&case(
        "sec-drop-all",
        &["/bin/sh", "-c", "/probe status && /probe chown /not-mine 0"],
        "",
        "capabilities = { drop = [\"ALL\"] }",
        &[(&file, "/not-mine")],
    ));
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(get(&r, key), NO_CAPS, "{key}: {r:?}");
    }
    assert_eq!(get(&r, "chown"), errno(libc::EPERM), "{r:?}");
}

#[test]
fn a_non_root_user_keeps_added_capabilities_through_the_ambient_set() {
    let net = "user = \"1000:1000\"\n[namespaces]\nnet = \"new\"";
    let r = run(&case(
        "sec-ambient",
        &["/bin/sh", "-c", "/probe status && /probe bind 80"],
        net,
        "capabilities = { add = [\"NET_BIND_SERVICE\"] }",
        &[],
    ));
    assert_eq!(get(&r, "bind 80"), "0", "{r:?}");
    for key in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(get(&r, key), NET_BIND_SERVICE, "{key}: {r:?}");
    }
    assert_eq!(get(&r, "CapBnd"), DOCKER_DEFAULT_CAPS, "{r:?}");
    // Without `add`, a non-root user has nothing after execve (Docker's behaviour).
    let r = run(&case(
        "sec-no-ambient",
        &["/probe", "bind", "80"],
        net,
        "",
        &[],
    ));
    assert_eq!(get(&r, "bind 80"), errno(libc::EACCES), "{r:?}");
}

#[test]
fn no_new_privileges_sets_the_flag_and_a_setuid_binary_gains_nothing() {
    // A setuid-root copy of the probe, owned by root (this test runs as root).
    let dir = tempfile::tempdir().expect("tempdir");
    let suid = dir.path().join("suid-probe");
    std::fs::copy(probe(), &suid).expect("copy the probe");
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).expect("chmod");
    let command = ["/bin/sh", "-c", "/probe status && /suid-probe euid"];
    let top = "user = \"1000:1000\"";
    let binds: [(&Path, &str); 1] = [(&suid, "/suid-probe")];

    let r = run(&case("sec-suid", &command, top, "", &binds));
    assert_eq!(get(&r, "NoNewPrivs"), "0", "{r:?}");
    assert_eq!(
        get(&r, "euid"),
        "0",
        "without no_new_privileges setuid works: {r:?}"
    );

    let r = run(&case(
        "sec-nnp",
        &command,
        top,
        "no_new_privileges = true",
        &binds,
    ));
    assert_eq!(get(&r, "NoNewPrivs"), "1", "{r:?}");
    assert_eq!(get(&r, "Seccomp"), "2", "{r:?}");
    assert_eq!(get(&r, "euid"), "1000", "setuid must not work: {r:?}");
}

#[test]
fn a_custom_profile_makes_mkdir_fail_with_its_errno() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":31}]}"#,
    )
    .expect("write profile");
    let r = run(&case(
        "sec-profile",
        &["/bin/sh", "-c", "/probe status && /probe mkdir /tmp/x"],
        "",
        &format!("seccomp = {:?}", profile.display().to_string()),
        &[],
    ));
    assert_eq!(get(&r, "Seccomp"), "2", "{r:?}");
    assert_eq!(get(&r, "mkdir"), errno(libc::EMLINK), "{r:?}");
}

#[test]
fn a_profile_without_close_range_does_not_stop_the_start() {
    // box's own close_range before execve runs before the filter is installed.
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("no-close-range.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["close_range"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .expect("write profile");
    let r = run(&case(
        "sec-close-range",
        &["/probe", "status"],
        "",
        &format!("seccomp = {:?}", profile.display().to_string()),
        &[],
    ));
    assert_eq!(get(&r, "Seccomp"), "2", "{r:?}");
}

#[test]
fn unconfined_installs_no_filter() {
    let r = run(&case(
        "sec-unconfined",
        &["/probe", "status"],
        "",
        "seccomp = \"unconfined\"",
        &[],
    ));
    assert_eq!(get(&r, "Seccomp"), "0", "{r:?}");
    assert_eq!(get(&r, "CapEff"), DOCKER_DEFAULT_CAPS, "{r:?}");
}

#[test]
fn rlimits_show_in_proc_self_limits() {
    let c = case(
        "sec-rlimits",
        &["/bin/cat", "/proc/self/limits"],
        "",
        "rlimits = { nofile = 1024, core = [0, 0] }",
        &[],
    );
    let out = ok(&c.up());
    c.assert_nothing_left();
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no {name:?} in {out}"))
    };
    assert_eq!(row("Max open files")[3..5], ["1024", "1024"], "{out}");
    assert_eq!(row("Max core file size")[4..6], ["0", "0"], "{out}");
}

#[test]
fn security_errors_stop_box_up_before_anything_exists() {
    let c = case(
        "sec-bad-cap",
        &["/bin/true"],
        "",
        "capabilities = { add = [\"NET_ADMIN\", \"CAP_FLY\"] }",
        &[],
    );
    let out = c.up();
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "box: {}:5:38: security.capabilities.add[1]: unknown capability \"CAP_FLY\"",
            c.file().display()
        )),
        "{err}"
    );
    c.assert_nothing_left();

    // A hard limit above the current one, with box run without CAP_SYS_RESOURCE (as this CI
    // machine's bounding set lacks it anyway). RLIMIT_NOFILE is never "unlimited".
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read limits");
    let hard: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4)?.parse().ok())
        .expect("the hard limit of open files");
    let c = case(
        "sec-bad-rlimit",
        &["/bin/true"],
        "",
        &format!("rlimits = {{ nofile = [1024, {}] }}", hard + 1),
        &[],
    );
    let out = without_sys_resource(&mut c.command(&["up"]))
        .output()
        .expect("run box up");
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "box: {}:5:13: security.rlimits.nofile: hard limit {} is above the current hard limit {hard}; raising a hard limit needs CAP_SYS_RESOURCE, which box does not have here",
            c.file().display(),
            hard + 1
        )
    );
    c.assert_nothing_left();
}
