//! System calls that leave `errno` alone: the closer shares box's memory, and libc's wrappers
//! write `errno`, box's thread-local.

use std::ffi::c_void;

/// # Safety
/// As the system call `n` with these arguments.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn syscall4(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's; `syscall` clobbers rcx and r11 only, and no stack.
    unsafe {
        std::arch::asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a,
            in("rsi") b, in("rdx") c, in("r10") d, lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

/// # Safety
/// As the system call `n` with these arguments.
#[cfg(target_arch = "aarch64")]
pub(super) unsafe fn syscall4(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's; `svc 0` clobbers nothing but x0, and no stack.
    unsafe {
        std::arch::asm!("svc 0", in("x8") n, inlateout("x0") a as isize => ret,
            in("x1") b, in("x2") c, in("x3") d, options(nostack));
    }
    ret
}

/// # Safety
/// As the system call `n` with these arguments.
pub(super) unsafe fn syscall3(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    // SAFETY: the caller's; the fourth argument is ignored by three-argument calls.
    unsafe { syscall4(n, a, b, c, 0) }
}

/// `close(2)`; its result does not matter to any caller.
pub(super) fn close(fd: i32) {
    // SAFETY: closes one fd of this process, which the caller no longer uses.
    unsafe { syscall3(libc::SYS_close, fd as usize, 0, 0) };
}

/// Unmaps the stack this runs on and exits, touching no memory in between.
///
/// # Safety
/// `mapping` and `len` must be the calling task's own stack mapping, used by nothing else.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn unmap_and_exit(mapping: *mut c_void, len: usize) -> ! {
    // SAFETY: the caller's; after munmap only registers are used.
    unsafe {
        std::arch::asm!("syscall", "mov eax, {exit}", "xor edi, edi", "syscall",
            exit = const libc::SYS_exit, in("rax") libc::SYS_munmap, in("rdi") mapping,
            in("rsi") len, options(noreturn, nostack));
    }
}

/// Unmaps the stack this runs on and exits, touching no memory in between.
///
/// # Safety
/// `mapping` and `len` must be the calling task's own stack mapping, used by nothing else.
#[cfg(target_arch = "aarch64")]
pub(super) unsafe fn unmap_and_exit(mapping: *mut c_void, len: usize) -> ! {
    // SAFETY: the caller's; after munmap only registers are used.
    unsafe {
        std::arch::asm!("svc 0", "mov x8, #{exit}", "mov x0, #0", "svc 0",
            exit = const libc::SYS_exit, in("x8") libc::SYS_munmap, in("x0") mapping,
            in("x1") len, options(noreturn, nostack));
    }
}
