//! Profile parsing, evaluation against capabilities, and the compiled filter's behaviour (run
//! through the BPF interpreter, so these need no privileges).

use super::*;
use crate::capabilities::{default_capabilities, CapSet, Capability};

const KERNEL: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};
const EPERM: Action = Action::Errno(libc::EPERM as u16);
const ENOSYS: Action = Action::Errno(libc::ENOSYS as u16);

fn with(extra: &[Capability]) -> CapSet {
    let mut caps = default_capabilities();
    for c in extra {
        caps.insert(*c);
    }
    caps
}

fn default_filter(caps: CapSet) -> Compiled {
    Profile::docker_default()
        .compile(caps, Arch::X86_64, KERNEL)
        .unwrap()
}

fn act(f: &Compiled, name: &str, arg0: u64) -> Action {
    f.action_for(name, [arg0, 0, 0, 0, 0, 0])
        .unwrap_or_else(|| panic!("{name} unknown"))
}

fn json_err(text: &str) -> String {
    Profile::from_json(text, "profile.json")
        .unwrap_err()
        .to_string()
}

fn entry(body: &str) -> String {
    format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW"}},{body}]}}"#
    )
}

#[test]
fn tables_agree_with_libc_on_this_host() {
    #[cfg(target_arch = "x86_64")]
    let arch = Arch::X86_64;
    #[cfg(target_arch = "aarch64")]
    let arch = Arch::Aarch64;
    for (name, nr) in [
        ("read", libc::SYS_read),
        ("execve", libc::SYS_execve),
        ("clone", libc::SYS_clone),
        ("clone3", libc::SYS_clone3),
        ("mount", libc::SYS_mount),
        ("close_range", libc::SYS_close_range),
        ("mseal", libc::SYS_mseal),
        ("futex_waitv", libc::SYS_futex_waitv),
        ("keyctl", libc::SYS_keyctl),
    ] {
        assert_eq!(syscall_number(arch, name), Some(nr as u32), "{name}");
    }
    assert_eq!(syscall_number(Arch::X86_64, "open"), Some(2));
    assert_eq!(syscall_number(Arch::Aarch64, "open"), None);
}

/// What `tables::correct` fixes in the `syscalls` crate's tables, checked both ways: the
/// corrected table says what the kernel's does, and the crate still needs the fix (when this
/// fails after a crate update, drop that fix from `correct`).
#[test]
fn syscall_tables_correct_what_the_crate_gets_wrong() {
    use std::str::FromStr;
    // arm64 has neither the 32-bit ABIs' time64 calls nor a syscall named fstatat.
    assert_eq!(syscall_number(Arch::Aarch64, "newfstatat"), Some(79));
    for name in [
        "fstatat",
        "clock_gettime64",
        "futex_time64",
        "semtimedop_time64",
    ] {
        assert_eq!(syscall_number(Arch::Aarch64, name), None, "{name}");
    }
    assert_eq!(
        syscall_number(Arch::Aarch64, "pidfd_send_signal"),
        Some(424)
    );
    assert!(syscalls::aarch64::Sysno::from_str("clock_gettime64").is_ok());
    assert!(syscalls::aarch64::Sysno::from_str("newfstatat").is_err());
    // i386's `break` (17), spelt as a raw identifier by the crate.
    assert_eq!(syscall_number(Arch::I386, "break"), Some(17));
    assert_eq!(
        syscalls::x86::Sysno::new(17).map(|s| s.name()),
        Some("r#break")
    );
    // arm's private calls are outside its table; arm has no memfd_secret.
    assert_eq!(syscall_number(Arch::Arm, "set_tls"), Some(0xf_0005));
    assert_eq!(syscall_number(Arch::Arm, "memfd_secret"), None);
    assert!(syscalls::arm::Sysno::from_str("set_tls").is_err());
    // No table names a syscall twice or gives two syscalls one number.
    for arch in [Arch::X86_64, Arch::Aarch64, Arch::I386, Arch::Arm] {
        let table = arch.table();
        let names: std::collections::HashSet<_> = table.iter().map(|(n, _)| n).collect();
        let numbers: std::collections::HashSet<_> = table.iter().map(|(_, nr)| nr).collect();
        assert_eq!(names.len(), table.len(), "{arch:?}");
        assert_eq!(numbers.len(), table.len(), "{arch:?}");
    }
}

#[test]
fn default_profile_compiles_for_both_architectures() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        for caps in [default_capabilities(), CapSet::EMPTY, CapSet::all()] {
            let f = Profile::docker_default()
                .compile(caps, arch, KERNEL)
                .unwrap();
            assert!(
                f.instructions().len() < 4096,
                "{arch:?}: {}",
                f.instructions().len()
            );
            assert!(f.warnings().is_empty(), "{:?}", f.warnings());
            for name in ["read", "execve", "execveat", "close_range", "exit_group"] {
                assert_eq!(
                    f.action_for(name, [0; 6]),
                    Some(Action::Allow),
                    "{arch:?} {name}"
                );
            }
        }
    }
}

#[test]
fn default_profile_denies_what_docker_denies() {
    let f = default_filter(default_capabilities());
    for name in [
        "mount",
        "umount2",
        "unshare",
        "setns",
        "keyctl",
        "add_key",
        "kexec_load",
        "reboot",
        "bpf",
        "init_module",
        "pivot_root",
        "swapon",
        "open_by_handle_at",
        "perf_event_open",
    ] {
        assert_eq!(act(&f, name, 0), EPERM, "{name}");
    }
    assert_eq!(act(&f, "chroot", 0), Action::Allow); // CAP_SYS_CHROOT is a default
    assert_eq!(act(&f, "ptrace", 0), Action::Allow); // kernel >= 4.8
    let old = Profile::docker_default()
        .compile(
            default_capabilities(),
            Arch::X86_64,
            KernelVersion { major: 4, minor: 4 },
        )
        .unwrap();
    assert_eq!(act(&old, "ptrace", 0), EPERM);
}

#[test]
fn namespace_creation_needs_cap_sys_admin() {
    let clone_newuser = 0x1000_0000 | libc::SIGCHLD as u64;
    let f = default_filter(default_capabilities());
    assert_eq!(act(&f, "clone", libc::SIGCHLD as u64), Action::Allow);
    assert_eq!(act(&f, "clone", clone_newuser), EPERM);
    assert_eq!(act(&f, "clone", (1 << 40) | 0x4000_0000), EPERM);
    assert_eq!(act(&f, "clone3", 0), ENOSYS);
    let admin = default_filter(with(&[Capability::CAP_SYS_ADMIN]));
    assert_eq!(act(&admin, "clone", clone_newuser), Action::Allow);
    assert_eq!(act(&admin, "clone3", 0), Action::Allow);
    assert_eq!(act(&admin, "mount", 0), Action::Allow);
    assert_eq!(act(&admin, "unshare", 0), Action::Allow);
}

#[test]
fn argument_rules_compare_the_low_half_of_int_arguments() {
    let f = default_filter(default_capabilities());
    assert_eq!(act(&f, "socket", libc::AF_INET as u64), Action::Allow);
    assert_eq!(act(&f, "socket", libc::AF_VSOCK as u64), EPERM);
    assert_eq!(act(&f, "socket", (1 << 32) | libc::AF_VSOCK as u64), EPERM);
    assert_eq!(act(&f, "personality", 0), Action::Allow);
    assert_eq!(act(&f, "personality", 0xffff_ffff), Action::Allow);
    assert_eq!(act(&f, "personality", 0x0040_0000), EPERM); // ADDR_NO_RANDOMIZE
}

#[test]
fn capability_gated_rules_follow_the_set() {
    let none = default_filter(CapSet::EMPTY);
    assert_eq!(act(&none, "chroot", 0), EPERM);
    let f = default_filter(with(&[
        Capability::CAP_SYS_PTRACE,
        Capability::CAP_SYS_TIME,
    ]));
    assert_eq!(act(&f, "kcmp", 0), Action::Allow);
    assert_eq!(act(&f, "clock_settime", 0), Action::Allow);
    assert_eq!(act(&f, "reboot", 0), EPERM);
}

#[test]
fn x32_is_killed_and_newer_syscalls_get_enosys() {
    let f = default_filter(default_capabilities());
    let native = |nr: u32| SeccompData {
        nr,
        arch: Arch::X86_64.audit_arch(),
        ..SeccompData::default()
    };
    assert_eq!(
        f.evaluate(&native(0x4000_0000 | 39)).unwrap(),
        Action::KillProcess
    ); // x32 getpid
    assert_eq!(f.evaluate(&native(451)).unwrap(), ENOSYS); // cachestat: newer than the profile
    assert_eq!(f.evaluate(&native(1000)).unwrap(), ENOSYS);
    assert_eq!(f.evaluate(&native(39)).unwrap(), Action::Allow);
}

#[test]
fn includes_and_excludes_are_evaluated_against_the_capability_set() {
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["execve","read","close_range"],"action":"SCMP_ACT_ALLOW"},
            {"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN","net_admin"]}},
            {"names":["chroot"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["SYS_ADMIN"]}},
            {"names":["mkdir"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
            {"names":["rmdir"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["amd64"]}},
            {"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"7.1"}}
        ]}"#,
        "p.json",
    )
    .unwrap();
    let admin = CapSet::from_iter([Capability::CAP_SYS_ADMIN]);
    let both = CapSet::from_iter([Capability::CAP_SYS_ADMIN, Capability::CAP_NET_ADMIN]);
    let f = |caps| profile.compile(caps, Arch::X86_64, KERNEL).unwrap();
    assert_eq!(act(&f(admin), "mount", 0), EPERM); // needs both
    assert_eq!(act(&f(both), "mount", 0), Action::Allow);
    assert_eq!(act(&f(CapSet::EMPTY), "chroot", 0), Action::Allow);
    assert_eq!(act(&f(admin), "chroot", 0), EPERM);
    assert_eq!(act(&f(both), "mkdir", 0), EPERM);
    assert_eq!(act(&f(both), "rmdir", 0), EPERM);
    assert_eq!(act(&f(both), "ptrace", 0), EPERM);
    let arm = profile.compile(both, Arch::Aarch64, KERNEL).unwrap();
    assert_eq!(act(&arm, "mkdirat", 0), EPERM);
    let newer = profile
        .compile(both, Arch::X86_64, KernelVersion { major: 7, minor: 1 })
        .unwrap();
    assert_eq!(act(&newer, "ptrace", 0), Action::Allow);
}

#[test]
fn first_matching_entry_wins_across_actions() {
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":1,"value":448,"op":"SCMP_CMP_EQ"}]},
            {"names":["mkdir","rmdir"],"action":"SCMP_ACT_ERRNO","errnoRet":6},
            {"names":["mkdir"],"action":"SCMP_ACT_KILL_PROCESS"},
            {"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":5},
            {"names":["kill"],"action":"SCMP_ACT_TRAP","args":[{"index":1,"value":255,"valueTwo":9,"op":"SCMP_CMP_MASKED_EQ"}]}
        ]}"#,
        "p.json",
    )
    .unwrap();
    let f = profile
        .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
        .unwrap();
    assert_eq!(
        f.action_for("mkdir", [0, 448, 0, 0, 0, 0]),
        Some(Action::Errno(5))
    );
    assert_eq!(
        f.action_for("mkdir", [0, 0o755, 0, 0, 0, 0]),
        Some(Action::Errno(6))
    );
    assert_eq!(f.action_for("rmdir", [0; 6]), Some(Action::Errno(6)));
    assert_eq!(f.action_for("getpid", [0; 6]), Some(Action::Errno(5)));
    assert_eq!(f.action_for("kill", [1, 9, 0, 0, 0, 0]), Some(Action::Trap));
    assert_eq!(
        f.action_for("kill", [1, 15, 0, 0, 0, 0]),
        Some(Action::Allow)
    );
    assert_eq!(f.action_for("read", [0; 6]), Some(Action::Allow));
    // An allow-by-default profile gets no ENOSYS stub.
    let data = SeccompData {
        nr: 1000,
        arch: Arch::X86_64.audit_arch(),
        ..SeccompData::default()
    };
    assert_eq!(f.evaluate(&data).unwrap(), Action::Allow);
}

#[test]
fn docker_style_profile_with_arch_map_covers_i386_and_warns_about_x32() {
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},
                       {"architecture":"SCMP_ARCH_RISCV64","subArchitectures":null}],
            "syscalls":[{"names":["read","execve","chown32","_llseek"],"action":"SCMP_ACT_ALLOW","comment":"x"}]}"#,
        "docker.json",
    )
    .unwrap();
    let f = profile
        .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
        .unwrap();
    assert_eq!(
        f.warnings(),
        ["docker.json: box filters SCMP_ARCH_X86_64 and SCMP_ARCH_X86 but not SCMP_ARCH_X32: its syscalls kill the process (SIGSYS) instead of following the profile"]
    );
    assert_eq!(f.arches(), [Arch::X86_64, Arch::I386]);
    assert_eq!(act(&f, "read", 0), Action::Allow);
    assert_eq!(act(&f, "write", 0), EPERM);
    let i386 = |name| f.action_for_arch(Arch::I386, name, [0; 6]);
    for name in ["read", "execve", "chown32", "_llseek"] {
        assert_eq!(i386(name), Some(Action::Allow), "{name}");
    }
    assert_eq!(i386("write"), Some(EPERM));
}

#[test]
fn malformed_profiles_name_the_file_and_the_entry() {
    let cases: &[(&str, &str)] = &[
        (r#"{"defaultAction": "SCMP_ACT_ALLOW",}"#, "profile.json: line 1 column 36: trailing comma"),
        (r#"{"syscalls": []}"#, "profile.json: line 1 column 16: missing field `defaultAction`"),
        (r#"{"defaultAction":"SCMP_ACT_NOPE"}"#, r#"profile.json: defaultAction: unknown action "SCMP_ACT_NOPE""#),
        (r#"{"defaultAction":"SCMP_ACT_KILL","defaultErrnoRet":1}"#, "profile.json: defaultAction: defaultErrnoRet is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_KILL"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock"}"#, "profile.json: listenerPath: seccomp user notification (a listener agent) is not supported by box"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#, r#"profile.json: flags[0]: unsupported flag "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV""#),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}"#, r#"profile.json: architectures[0]: unknown architecture "SCMP_ARCH_Z80""#),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#, "profile.json: archMap: use either architectures or archMap, not both"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultAktion":"x"}"#, "profile.json: line 1 column 49: unknown field `defaultAktion`, expected one of `defaultAction`, `defaultErrnoRet`, `architectures`, `archMap`, `syscalls`, `flags`, `listenerPath`, `listenerMetadata`"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_FOO"}"#), r#"profile.json: syscalls[1]: unknown action "SCMP_ACT_FOO""#),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}"#), "profile.json: syscalls[1]: SCMP_ACT_NOTIFY needs a seccomp agent, which box does not support"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ALLOW","errnoRet":1}"#), "profile.json: syscalls[1]: errnoRet is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":70000}"#), "profile.json: syscalls[1]: errnoRet 70000 is above the largest errno 4095"),
        (&entry(r#"{"action":"SCMP_ACT_ERRNO"}"#), "profile.json: syscalls[1]: no syscall names"),
        (&entry(r#"{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}"#), r#"profile.json: syscalls[1]: use either "name" or "names", not both"#),
        (&entry(r#"{"names":["mkdir",""],"action":"SCMP_ACT_ERRNO"}"#), "profile.json: syscalls[1].names[1]: empty syscall name"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}"#), "profile.json: syscalls[1].args[0]: argument index 6 is out of range 0..=5"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_SIMILAR"}]}"#), r#"profile.json: syscalls[1].args[0]: unknown comparison "SCMP_CMP_SIMILAR""#),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":15,"valueTwo":16,"op":"SCMP_CMP_MASKED_EQ"}]}"#), "profile.json: syscalls[1].args[0]: valueTwo 0x10 has bits outside the mask 0xf, so the condition could never hold"),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_FLY"]}}"#), r#"profile.json: syscalls[1].includes.caps[0]: unknown capability "CAP_FLY""#),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"four"}}"#), r#"profile.json: syscalls[1].excludes.minKernel: "four" is not a kernel version like "4.8""#),
        (&entry(r#"{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","argz":[]}"#), "profile.json: syscalls[1]: unknown field `argz`, expected one of `names`, `name`, `action`, `errnoRet`, `args`, `comment`, `includes`, `excludes`"),
    ];
    for (text, expected) in cases {
        assert_eq!(json_err(text), *expected, "for {text}");
    }
}

#[test]
fn what_box_cannot_express_is_a_compile_error() {
    let compile_err = |text: &str| {
        Profile::from_json(text, "profile.json")
            .unwrap()
            .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"]}"#),
        "profile.json: architectures: the host architecture SCMP_ARCH_X86_64 is not listed, so every syscall would be refused"
    );
    // Denying a syscall box cannot number would silently allow it.
    assert_eq!(
        compile_err(&entry(
            r#"{"names":["mkdir","frobnicate"],"action":"SCMP_ACT_ERRNO"}"#
        )),
        r#"profile.json: syscalls[1].names[1]: unknown syscall "frobnicate": box cannot restrict a syscall it cannot number"#
    );
    // A syscall of another architecture in a deny rule: skipped, with a warning.
    let f = Profile::from_json(
        &entry(r#"{"names":["mkdirat","renameat"],"action":"SCMP_ACT_ERRNO"}"#),
        "p.json",
    )
    .unwrap()
    .compile(CapSet::EMPTY, Arch::Aarch64, KERNEL)
    .unwrap();
    assert!(
        f.warnings().is_empty(),
        "renameat exists on arm64: {:?}",
        f.warnings()
    );
    let f = Profile::from_json(
        &entry(r#"{"names":["mkdirat","open"],"action":"SCMP_ACT_ERRNO"}"#),
        "p.json",
    )
    .unwrap()
    .compile(CapSet::EMPTY, Arch::Aarch64, KERNEL)
    .unwrap();
    assert_eq!(f.warnings().len(), 1, "{:?}", f.warnings());
    assert_eq!(act(&f, "mkdirat", 0), EPERM);
}

#[test]
fn kernel_versions_parse() {
    assert_eq!(
        KernelVersion::parse("6.18.44-fc-v595"),
        Some(KernelVersion {
            major: 6,
            minor: 18
        })
    );
    assert_eq!(
        KernelVersion::parse("5.4"),
        Some(KernelVersion { major: 5, minor: 4 })
    );
    assert_eq!(KernelVersion::parse("6"), None);
    assert!(KernelVersion::running().is_ok());
}

#[test]
fn a_profile_file_is_read_only_if_regular_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(MAX_PROFILE_SIZE + 1).unwrap();
    let err = Profile::load(&big).unwrap_err().to_string();
    assert!(err.contains("larger than 4 MiB"), "{err}");
    // A fifo without a writer: a blocking open would wait forever.
    let fifo = dir.path().join("fifo.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let err = Profile::load(&fifo).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    let ok = dir.path().join("ok.json");
    std::fs::write(&ok, r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#).unwrap();
    assert!(Profile::load(&ok).is_ok());
}
