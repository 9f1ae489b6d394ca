//! Signals and waits aimed at exactly one process: through a pidfd, checked against the
//! process's start time after it is open, so a recycled pid is never hit.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use crate::state::{alive, ProcessId};

/// Sends `sig` to exactly that process (through a pidfd, checked against its start time, so
/// a recycled pid is never hit). False when it is already gone.
pub(crate) fn send(p: &ProcessId, sig: Signal) -> Result<bool> {
    let Some(fd) = pidfd(p)? else {
        return Ok(false);
    };
    // SAFETY: pidfd_send_signal takes a pidfd we own, a signal number, no siginfo, no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            sig as i32,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    match Errno::result(ret) {
        Ok(_) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(errno) => Err(anyhow!("send {sig} to pid {}: {errno}", p.pid)),
    }
}

/// Waits up to `timeout` for the process to end; true when it did.
pub(crate) fn wait_gone(p: &ProcessId, timeout: Duration) -> Result<bool> {
    let Some(fd) = pidfd(p)? else {
        return Ok(true);
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(60_000) as u16;
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(true),
            Err(errno) => return Err(anyhow!("poll pidfd of {}: {errno}", p.pid)),
        }
    }
}

/// A pidfd for this very process, or `None` when it is gone (or its pid was reused).
fn pidfd(p: &ProcessId) -> Result<Option<OwnedFd>> {
    // SAFETY: pidfd_open takes a pid and flags, and returns a new fd (close-on-exec).
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, p.pid, 0u32) };
    match Errno::result(ret) {
        Ok(fd) => {
            // SAFETY: the kernel just gave us this fd; nobody else owns it.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            // Checked after opening: from now on the fd names this process, whatever its pid.
            Ok(alive(p).then_some(fd))
        }
        Err(Errno::ESRCH) => Ok(None),
        Err(errno) => Err(anyhow!("pidfd_open({}): {errno}", p.pid)),
    }
}
