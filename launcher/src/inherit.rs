//! What the child inherits from box and must not hand on to the container: box's file
//! descriptors, and the signals box's caller left ignored.

use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::Error;

const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

/// Closes every fd above stderr except `keep`: the cgroup directories box holds (its `flock`s
/// and the `CLONE_INTO_CGROUP` fd), namespace files, state files, anything box's caller
/// leaked to it. Called right after the namespace joins, before anything is resolved inside
/// the container's root, so that no path the container controls (a workdir `/proc/self/fd/3`)
/// can reach the host through one of them.
pub(crate) fn close_all_but(keep: &[RawFd]) -> Result<(), Error> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .filter(|&fd| fd > 2)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first = 3u32;
    for fd in keep {
        if fd > first {
            close_range(first, fd - 1, 0)?;
        }
        first = fd + 1;
    }
    close_range(first, u32::MAX, 0)
}

/// Marks every fd from `first` up close-on-exec: anything a step opened since
/// [`close_all_but`] without `O_CLOEXEC` still does not reach the command. (`first` is 3, or
/// above the fds the caller asked to pass on, which box's own fds never are: those numbers
/// were taken when box opened its own.)
pub(crate) fn close_on_exec(first: u32) -> Result<(), Error> {
    close_range(first, u32::MAX, CLOSE_RANGE_CLOEXEC)
}

fn close_range(first: u32, last: u32, flags: libc::c_uint) -> Result<(), Error> {
    // SAFETY: close_range touches only this process's fd table. The fds it closes belong to
    // `OwnedFd`s and `File`s in the memory this child copied from box, which it never drops:
    // the child never returns (it execs or `_exit`s, a panic included, see `parent::spawn`),
    // so none of them is used or closed again after this.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
    Errno::result(ret)
        .map(drop)
        .map_err(Error::sys("close_range"))
}

/// Sets every signal back to its default action. An ignored disposition survives `execve`: a
/// container started as `box up &` from a script would otherwise run with SIGINT and SIGQUIT
/// ignored, every one with SIGPIPE (which Rust ignores), and with whatever else box's caller
/// ignored, the C library's reserved real-time signals included (which its `sigaction` refuses
/// to touch, hence the raw syscall). Handlers would be reset by `execve` anyway.
pub(crate) fn reset_signal_dispositions() -> Result<(), Error> {
    // All zeros is SIG_DFL with no flags and an empty mask, whatever the architecture's layout
    // of the kernel's `struct sigaction`; this buffer is larger than any of them.
    let default = [0u64; 8];
    for signo in 1..=64 {
        if signo == libc::SIGKILL || signo == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction reads a kernel sigaction from `default` (valid, zeroed, large
        // enough) and writes none back; restoring the default installs no handler code.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signo,
                default.as_ptr(),
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_SIZE,
            )
        };
        match Errno::result(ret) {
            // A number above this architecture's last signal.
            Ok(_) | Err(Errno::EINVAL) => {}
            Err(errno) => return Err(Error::sys("reset signal dispositions")(errno)),
        }
    }
    Ok(())
}

/// The kernel's `sigset_t`: 64 signals, 128 on MIPS.
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const KERNEL_SIGSET_SIZE: usize = 8;
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const KERNEL_SIGSET_SIZE: usize = 16;
