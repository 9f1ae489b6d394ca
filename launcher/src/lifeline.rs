//! The container must not outlive the box process that started it (box itself, or the monitor
//! of a detached container): whoever reaps it and removes its cgroup.
//!
//! The child is killed by `PR_SET_PDEATHSIG` when its parent dies, but that setting is only
//! as good as the moment it is made: the kernel clears it at every change of the child's
//! uid or gid (becoming root of a new user namespace, the user switch), and a parent that died
//! before it is set again never sends the signal. `getppid()` cannot tell: the parent is outside
//! the child's pid namespace, so it reads 0 before and after. So the parent hands the child a
//! pidfd of itself, and every time the child (re-)arms the signal it then polls that pidfd:
//! a parent that died before the arming is seen there, one that dies after sends the signal.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitid, Id, WaitPidFlag};

use crate::Error;

/// A pidfd of box, for the child to watch; `None` on kernels without `pidfd_open` (before
/// 5.3), where only the parent-death signal remains.
pub(crate) struct Lifeline(Option<OwnedFd>);

impl Lifeline {
    /// In box, before the clone.
    pub(crate) fn of_this_process() -> Result<Lifeline, Error> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd (close-on-exec) or -1.
        let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
        match Errno::result(ret) {
            // SAFETY: the kernel just created this fd for us and nothing else owns it.
            Ok(fd) => Ok(Lifeline(Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))),
            Err(Errno::ENOSYS) => Ok(Lifeline(None)),
            Err(errno) => Err(Error::sys("pidfd_open of box")(errno)),
        }
    }

    /// The fd the child must keep open.
    pub(crate) fn raw_fd(&self) -> Option<RawFd> {
        self.0.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// In the child, first thing and after every step that changes its credentials: arms the
    /// parent-death signal (and keeps the child non-dumpable, which a uid change may undo), then
    /// fails if the parent is already gone.
    pub(crate) fn hold(&self) -> Result<(), Error> {
        prctl::set_pdeathsig(Signal::SIGKILL).map_err(Error::sys("prctl(PR_SET_PDEATHSIG)"))?;
        prctl::set_dumpable(false).map_err(Error::sys("prctl(PR_SET_DUMPABLE)"))?;
        // A parent exiting at this very moment reads our (old, cleared) parent-death signal and
        // marks itself exited in one section under the kernel's tasklist lock; the pidfd poll
        // below does not take that lock. A wait for children takes it: after it, either the
        // parent saw the signal armed, or its exit is visible to the poll. (The child has no
        // children yet: this reaps nothing, it returns ECHILD.)
        let _ = waitid(Id::All, WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG);
        let Some(pidfd) = &self.0 else {
            return Ok(());
        };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) => Ok(()),
            Ok(_) => Err(Error::sys("box ended before the container started")(
                Errno::ESRCH,
            )),
            Err(errno) => Err(Error::sys("poll the pidfd of box")(errno)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::waitpid;
    use nix::unistd::{fork, pipe, read, write, ForkResult};

    /// A process P takes a lifeline of itself and forks C, which calls `hold` once P is dead
    /// and reaped (`parent_dies_first`) or while P waits for it. Returns whether `hold` said P
    /// was alive.
    fn hold_in_grandchild(parent_dies_first: bool) -> bool {
        let (result_r, result_w) = pipe().unwrap();
        // A byte from this process once it has reaped P: P has then fully exited (its fds are
        // closed earlier in its exit, so EOF on a pipe of P's would come too soon).
        let (gate_r, gate_w) = pipe().unwrap();
        // SAFETY: the forked processes make plain syscalls only, then _exit.
        let p = match unsafe { fork() }.unwrap() {
            ForkResult::Parent { child } => child,
            ForkResult::Child => {
                drop(gate_w);
                let lifeline = Lifeline::of_this_process();
                // SAFETY: this child is single-threaded; its own child makes plain syscalls
                // only, then _exits.
                let forked = unsafe { fork() };
                let code = match (lifeline, forked) {
                    (Ok(lifeline), Ok(ForkResult::Child)) => {
                        if parent_dies_first {
                            let _ = read(&gate_r, &mut [0u8; 1]);
                        }
                        let alive = lifeline.hold().is_ok();
                        let _ = write(&result_w, &[u8::from(alive)]);
                        0
                    }
                    (Ok(_), Ok(ForkResult::Parent { child })) => {
                        if !parent_dies_first {
                            let _ = waitpid(child, None);
                        }
                        0
                    }
                    _ => 1,
                };
                // SAFETY: _exit skips the test harness's atexit handlers.
                unsafe { libc::_exit(code) }
            }
        };
        drop((gate_r, result_w));
        waitpid(p, None).unwrap();
        if parent_dies_first {
            write(&gate_w, b"g").unwrap();
        }
        let mut byte = [9u8; 1];
        assert_eq!(read(&result_r, &mut byte).unwrap(), 1);
        byte[0] == 1
    }

    #[test]
    fn a_parent_that_died_before_the_signal_was_armed_is_noticed() {
        assert!(!hold_in_grandchild(true));
    }

    #[test]
    fn a_living_parent_lets_the_child_go_on() {
        assert!(hold_in_grandchild(false));
    }
}
