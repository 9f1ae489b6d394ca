//! Root tests of the compat ABIs on x86_64, against the real kernel: a 64-bit process makes
//! i386 syscalls with `int 0x80` (the kernel reports `AUDIT_ARCH_I386` for them, exactly as for
//! a 32-bit program) and x32 ones (bit 30 of the number), so no 32-bit toolchain is needed.
#![cfg(target_arch = "x86_64")]

#[allow(dead_code)] // the harness has more than these tests use
mod support;

use box_security::{prepare, SeccompConfig, SecurityConfig};
use support::{in_child, nothing, say};

/// Garbage in the upper half of a register, which `int 0x80` hands seccomp unchanged.
const HIGH: u64 = 0xdead_beef_0000_0000;
const SIGSYS_DEATH: i32 = 128 + libc::SIGSYS;

/// An i386 syscall through `int 0x80`: its raw result (`-errno` on failure).
fn int80(nr: u32, args: [u64; 3]) -> i32 {
    let ret: u64;
    // SAFETY: `int 0x80` enters the kernel's i386 syscall path; every call made here takes
    // integers only. LLVM reserves rbx, so the first argument is swapped in and back out; the
    // kernel may clobber r8-r11 on this path.
    unsafe {
        core::arch::asm!(
            "xchg {a0}, rbx",
            "int 0x80",
            "xchg {a0}, rbx",
            a0 = inout(reg) args[0] => _,
            inlateout("rax") u64::from(nr) => ret,
            in("rcx") args[1],
            in("rdx") args[2],
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
        );
    }
    ret as u32 as i32 // eax
}

/// i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl).
const I386_GETPID: u32 = 20;
const I386_MOUNT: u32 = 21;
const I386_CLOSE: u32 = 6;
const I386_UNSHARE: u32 = 310;
const I386_SOCKET: u32 = 359;

/// These tests need a kernel that runs i386 syscalls (IA32 emulation built in and not
/// switched off with `ia32_emulation=0`): without it there is no compat ABI to filter.
fn require_ia32() {
    assert_eq!(
        int80(I386_GETPID, [0; 3]),
        std::process::id() as i32,
        "this kernel does not run i386 syscalls (int 0x80): these tests need IA32 emulation"
    );
}

#[test]
fn i386_syscalls_follow_the_default_profile() {
    require_ia32();
    let prepared = prepare(&SecurityConfig::default()).unwrap();
    let out = in_child(&prepared, nothing, |fd| {
        let eperm = -libc::EPERM;
        let mut failed = 0;
        let mut expect = |what: &str, ok: bool, rc: i32| {
            if !ok {
                say(fd, &format!("{what}: {rc}"));
                failed += 1;
            }
        };
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let rc = int80(I386_GETPID, [0; 3]);
        expect("getpid", rc == pid, rc);
        let rc = int80(I386_MOUNT, [0; 3]);
        expect("mount", rc == eperm, rc);
        let newuser = libc::CLONE_NEWUSER as u64;
        let rc = int80(I386_UNSHARE, [newuser, 0, 0]);
        expect("unshare(CLONE_NEWUSER)", rc == eperm, rc);
        // The syscall sees only the low half; so must the filter.
        let rc = int80(I386_UNSHARE, [HIGH | newuser, 0, 0]);
        expect("unshare(garbage | CLONE_NEWUSER)", rc == eperm, rc);
        let stream = libc::SOCK_STREAM as u64;
        let rc = int80(I386_SOCKET, [HIGH | libc::AF_VSOCK as u64, stream, 0]);
        expect("socket(garbage | AF_VSOCK)", rc == eperm, rc);
        let rc = int80(I386_SOCKET, [libc::AF_UNIX as u64, stream, 0]);
        expect("socket(AF_UNIX)", rc >= 0, rc);
        if rc >= 0 {
            int80(I386_CLOSE, [rc as u64, 0, 0]);
        }
        failed
    });
    assert_eq!(out.code, 0, "{}", out.output);
}

#[test]
fn x32_and_abis_a_profile_does_not_list_are_killed() {
    let prepared = prepare(&SecurityConfig::default()).unwrap();
    let out = in_child(&prepared, nothing, |_| {
        // SAFETY: an x32 getpid; the filter kills the process before the kernel looks at it.
        unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) };
        0
    });
    assert_eq!(out.code, SIGSYS_DEATH, "{}", out.output);

    require_ia32();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("native-only.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[]}"#,
    )
    .unwrap();
    let cfg = SecurityConfig {
        seccomp: SeccompConfig::Path(profile),
        ..SecurityConfig::default()
    };
    let prepared = prepare(&cfg).unwrap();
    let out = in_child(&prepared, nothing, |_| {
        // SAFETY: getpid has no preconditions.
        let native = unsafe { libc::getpid() } > 0;
        int80(I386_GETPID, [0; 3]);
        i32::from(!native)
    });
    assert_eq!(out.code, SIGSYS_DEATH, "{}", out.output);
}
