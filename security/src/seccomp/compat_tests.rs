//! The 32-bit compat ABIs through the BPF interpreter: the same rules, i386/arm numbers,
//! 32-bit argument comparisons, the multiplexers, and ABIs a profile does not cover.

use super::*;
use crate::capabilities::{default_capabilities, CapSet, Capability};

const KERNEL: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};
const EPERM: Action = Action::Errno(libc::EPERM as u16);
const ENOSYS: Action = Action::Errno(libc::ENOSYS as u16);
const CLONE_NEWUSER: u64 = 0x1000_0000;
/// Garbage a 64-bit process may leave in the upper half of a register before `int 0x80`.
const HIGH: u64 = 0xdead_beef_0000_0000;

fn filter(native: Arch, caps: CapSet) -> Compiled {
    Profile::docker_default()
        .compile(caps, native, KERNEL)
        .unwrap()
}

fn call(f: &Compiled, arch: Arch, nr: u32, args: [u64; 6]) -> Action {
    let data = SeccompData {
        nr,
        arch: arch.audit_arch(),
        instruction_pointer: 0,
        args,
    };
    f.evaluate(&data).unwrap()
}

fn on(f: &Compiled, arch: Arch, name: &str, arg0: u64) -> Action {
    f.action_for_arch(arch, name, [arg0, 0, 0, 0, 0, 0])
        .unwrap_or_else(|| panic!("{name} unknown on {arch:?}"))
}

#[test]
fn i386_tables_have_the_kernels_numbers() {
    for (name, nr) in [
        ("restart_syscall", 0),
        ("read", 3),
        ("getpid", 20),
        ("mount", 21),
        ("socketcall", 102),
        ("ipc", 117),
        ("clone", 120),
        ("_llseek", 140),
        ("mmap2", 192),
        ("chown32", 212),
        ("set_thread_area", 243),
        ("unshare", 310),
        ("socket", 359),
        ("arch_prctl", 384),
        ("rseq", 386),
        ("semget", 393),
        ("clock_gettime64", 403),
        ("sched_rr_get_interval_time64", 423),
        ("clone3", 435),
        ("mseal", 462),
        ("file_setattr", 469),
    ] {
        assert_eq!(syscall_number(Arch::I386, name), Some(nr), "{name}");
    }
    for missing in ["semop", "send", "uretprobe", "newfstatat"] {
        assert_eq!(syscall_number(Arch::I386, missing), None, "{missing}");
    }
    for (name, nr) in [
        ("read", 3),
        ("socket", 281),
        ("set_tls", 0xf_0005),
        ("mseal", 462),
    ] {
        assert_eq!(syscall_number(Arch::Arm, name), Some(nr), "{name}");
    }
}

#[test]
fn the_default_profile_covers_the_compat_abi_with_the_same_rules() {
    let f = filter(Arch::X86_64, default_capabilities());
    assert_eq!(f.arches(), [Arch::X86_64, Arch::I386]);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    let i386 = |name, arg0| on(&f, Arch::I386, name, arg0);
    for name in [
        "read",
        "getpid",
        "execve",
        "mmap2",
        "_llseek",
        "chown32",
        "socketcall",
        "ipc",
    ] {
        assert_eq!(i386(name, 0), Action::Allow, "{name}");
    }
    for name in [
        "mount",
        "umount",
        "umount2",
        "unshare",
        "keyctl",
        "kexec_load",
        "reboot",
    ] {
        assert_eq!(i386(name, 0), EPERM, "{name}");
    }
    assert_eq!(i386("clone", libc::SIGCHLD as u64), Action::Allow);
    assert_eq!(i386("clone", CLONE_NEWUSER | libc::SIGCHLD as u64), EPERM);
    assert_eq!(i386("clone3", 0), ENOSYS);
    // Docker selects rules by the host architecture: amd64's arch_prctl applies to i386 too.
    assert_eq!(i386("arch_prctl", 0), Action::Allow);
    assert_eq!(call(&f, Arch::I386, 470, [0; 6]), ENOSYS);
    // x32 and ABIs this filter does not cover are killed.
    assert_eq!(
        call(&f, Arch::X86_64, 0x4000_0000, [0; 6]),
        Action::KillProcess
    );
    assert_eq!(call(&f, Arch::Arm, 3, [0; 6]), Action::KillProcess);

    let admin = filter(
        Arch::X86_64,
        default_capabilities().union(CapSet::from_iter([Capability::CAP_SYS_ADMIN])),
    );
    assert_eq!(
        on(&admin, Arch::I386, "clone", CLONE_NEWUSER),
        Action::Allow
    );
    assert_eq!(on(&admin, Arch::I386, "mount", 0), Action::Allow);
}

#[test]
fn i386_arguments_are_compared_on_their_low_32_bits() {
    let f = filter(Arch::X86_64, default_capabilities());
    let i386 = |name, arg0| on(&f, Arch::I386, name, arg0);
    // The kernel hands i386 syscalls the low halves only: garbage above changes nothing.
    assert_eq!(i386("clone", HIGH | CLONE_NEWUSER), EPERM);
    assert_eq!(i386("clone", HIGH | libc::SIGCHLD as u64), Action::Allow);
    assert_eq!(i386("socket", HIGH | libc::AF_VSOCK as u64), EPERM);
    assert_eq!(i386("socket", HIGH | libc::AF_INET as u64), Action::Allow);
    assert_eq!(i386("personality", HIGH | 0x8), Action::Allow);
    assert_eq!(i386("personality", 0x0040_0000), EPERM);
    // A JSON value above 32 bits is truncated, as libseccomp does for 32-bit ABIs.
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":3,
                         "args":[{"index":1,"value":4294967305,"op":"SCMP_CMP_EQ"}]}]}"#,
        "p.json",
    )
    .unwrap();
    let f = profile
        .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
        .unwrap();
    assert_eq!(
        f.action_for_arch(Arch::I386, "kill", [1, 9, 0, 0, 0, 0]),
        Some(Action::Errno(3))
    );
    assert_eq!(
        f.action_for("kill", [1, 9, 0, 0, 0, 0]),
        Some(Action::Allow)
    );
}

#[test]
fn native_answers_do_not_change_when_i386_is_covered() {
    let with = Profile::docker_default();
    let mut without = with.clone();
    without.arch_map.clear();
    for caps in [default_capabilities(), CapSet::EMPTY, CapSet::all()] {
        let a = with.compile(caps, Arch::X86_64, KERNEL).unwrap();
        let b = without.compile(caps, Arch::X86_64, KERNEL).unwrap();
        assert_eq!(b.arches(), [Arch::X86_64]);
        for (name, _) in Arch::X86_64.table() {
            for arg in [0, 40, CLONE_NEWUSER, HIGH | 40, u64::MAX] {
                let args = [arg, arg, 0, 0, 0, 0];
                assert_eq!(a.action_for(name, args), b.action_for(name, args), "{name}");
            }
        }
        assert_eq!(call(&b, Arch::I386, 3, [0; 6]), Action::KillProcess);
    }
}

#[test]
fn rules_reach_calls_through_socketcall_and_ipc() {
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[
              {"names":["connect","msgrcv"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
              {"names":["bind"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":2,"value":16,"op":"SCMP_CMP_LT"}]}]}"#,
        "p.json",
    )
    .unwrap();
    let f = profile
        .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
        .unwrap();
    let socketcall = |call_nr: u64| call(&f, Arch::I386, 102, [call_nr, 0, 0, 0, 0, 0]);
    let ipc = |call_nr: u64| call(&f, Arch::I386, 117, [call_nr, 0, 0, 0, 0, 0]);
    assert_eq!(socketcall(3), Action::Errno(13)); // SYS_CONNECT
    assert_eq!(socketcall(HIGH | 3), Action::Errno(13));
    assert_eq!(socketcall(1), Action::Allow); // SYS_SOCKET
    assert_eq!(on(&f, Arch::I386, "connect", 0), Action::Errno(13));
    assert_eq!(ipc(12), Action::Errno(13)); // MSGRCV
    assert_eq!(ipc(0x1_000c), Action::Errno(13)); // MSGRCV, version 1
    assert_eq!(ipc(11), Action::Allow); // MSGSND
                                        // bind's condition is on memory the filter cannot read: every socketcall(SYS_BIND) is
                                        // refused, and the profile is told.
    assert_eq!(socketcall(2), Action::Errno(5));
    assert_eq!(f.warnings().len(), 1, "{:?}", f.warnings());
    assert!(
        f.warnings()[0].contains("bind through socketcall"),
        "{:?}",
        f.warnings()
    );

    // A conditional allow under a denying default leaves the multiplexed call to the default.
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[{"names":["execve","sendto"],"action":"SCMP_ACT_ALLOW"},
              {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#,
        "p.json",
    )
    .unwrap();
    let f = profile
        .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
        .unwrap();
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    assert_eq!(
        call(&f, Arch::I386, 102, [11, 0, 0, 0, 0, 0]),
        Action::Allow
    ); // SYS_SENDTO
    assert_eq!(call(&f, Arch::I386, 102, [1, 0, 0, 0, 0, 0]), EPERM); // SYS_SOCKET
    assert_eq!(on(&f, Arch::I386, "socket", 2), Action::Allow);
}

#[test]
fn a_profile_that_does_not_list_i386_kills_it() {
    let f = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        "p.json",
    )
    .unwrap()
    .compile(CapSet::EMPTY, Arch::X86_64, KERNEL)
    .unwrap();
    assert_eq!(f.arches(), [Arch::X86_64]);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    assert_eq!(call(&f, Arch::I386, 3, [0; 6]), Action::KillProcess);
    // The program is the plain architecture check in front of the native section.
    let head = &f.instructions()[..3];
    assert_eq!((head[0].code, head[0].k), (0x20, 4)); // ld [arch]
    assert_eq!(
        (head[1].code, head[1].k, head[1].jt, head[1].jf),
        (0x15, 0xC000_003E, 1, 0)
    );
    assert_eq!(
        (head[2].code, head[2].k),
        (0x06, libc::SECCOMP_RET_KILL_PROCESS)
    );
}

#[test]
fn arm_on_aarch64_follows_the_profile_and_keeps_its_private_calls() {
    let f = filter(Arch::Aarch64, default_capabilities());
    assert_eq!(f.arches(), [Arch::Aarch64, Arch::Arm]);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
    let arm = |name, arg0| on(&f, Arch::Arm, name, arg0);
    for name in [
        "read",
        "set_tls",
        "cacheflush",
        "breakpoint",
        "arm_fadvise64_64",
        "send",
    ] {
        assert_eq!(arm(name, 0), Action::Allow, "{name}");
    }
    assert_eq!(arm("mount", 0), EPERM);
    assert_eq!(arm("get_tls", 0), EPERM); // private, unnamed: the default, not ENOSYS
    assert_eq!(arm("clone", CLONE_NEWUSER), EPERM);
    assert_eq!(arm("socket", HIGH | libc::AF_VSOCK as u64), EPERM);
    assert_eq!(call(&f, Arch::Arm, 470, [0; 6]), ENOSYS);
    assert_eq!(call(&f, Arch::I386, 3, [0; 6]), Action::KillProcess);
    // Native aarch64 is untouched: set_tls and friends do not exist there.
    assert_eq!(f.action_for("set_tls", [0; 6]), None);
    assert_eq!(f.action_for("mount", [0; 6]), Some(EPERM));
}
