use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

use crate::Error;

/// What to clone: the namespace flags, and optionally a cgroup v2 directory to start the child
/// in (`CLONE_INTO_CGROUP`), so that it never runs a single instruction outside its cgroup.
#[derive(Debug, Clone, Copy)]
pub struct CloneOptions<'fd> {
    pub flags: CloneFlags,
    pub into_cgroup: Option<BorrowedFd<'fd>>,
    /// Ask for a pidfd of the child (`CLONE_PIDFD`).
    pub pidfd: bool,
}

/// The two sides of a clone.
#[derive(Debug)]
pub enum Cloned {
    Child,
    Parent {
        pid: Pid,
        pidfd: Option<OwnedFd>,
        /// Whether the child started in `into_cgroup`; false when the kernel could not do it
        /// (no `clone3`), and the caller must move the child itself.
        in_cgroup: bool,
    },
}

/// `CLONE_INTO_CGROUP` (Linux 5.7); libc's constant is an overflowing `c_int`.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The kernel's `struct clone_args` (version 2, 88 bytes), all fields 64-bit on every arch.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Forks the calling process into new namespaces, like `fork()` with `CLONE_NEW*` flags: the
/// child continues on a copy of the caller's stack and returns `Cloned::Child`.
///
/// Uses `clone3` (for `CLONE_INTO_CGROUP` and `CLONE_PIDFD`) and falls back to `clone` on
/// kernels without it.
///
/// # Safety
/// As with `fork`: if the caller has other threads, the child may only call async-signal-safe
/// functions until it execs. Call it while the process is single-threaded.
pub unsafe fn clone_child(opts: CloneOptions<'_>) -> Result<Cloned, Error> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: opts.flags.bits() as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if opts.pidfd {
        args.flags |= libc::CLONE_PIDFD as u64;
        args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    }
    if let Some(fd) = opts.into_cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = std::os::fd::AsRawFd::as_raw_fd(&fd) as u64;
    }
    // SAFETY: args is a valid, initialised clone_args of the size we pass; with no stack given
    // the kernel gives the child a copy-on-write copy of our address space, as fork does.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let (ret, in_cgroup) = match Errno::result(ret) {
        Err(Errno::ENOSYS) => (legacy_clone(opts.flags)?, false),
        // Some cgroup states refuse CLONE_INTO_CGROUP (e.g. a v2 domain that is not ready):
        // start the child normally and let the caller move it.
        Err(Errno::EOPNOTSUPP | Errno::EBUSY) if opts.into_cgroup.is_some() => {
            let opts = CloneOptions {
                into_cgroup: None,
                ..opts
            };
            // SAFETY: the caller's guarantee carries over unchanged.
            return unsafe { clone_child(opts) };
        }
        Err(errno) => return Err(Error::Clone { errno }),
        Ok(ret) => (ret, opts.into_cgroup.is_some()),
    };
    if ret == 0 {
        return Ok(Cloned::Child);
    }
    let pidfd = (pidfd >= 0).then(|| {
        // SAFETY: the kernel just created this fd for us and nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    });
    Ok(Cloned::Parent {
        pid: Pid::from_raw(ret as libc::pid_t),
        pidfd,
        in_cgroup,
    })
}

fn legacy_clone(flags: CloneFlags) -> Result<libc::c_long, Error> {
    let flags = flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: a fork-like clone (no stack, no tid pointers); see clone_child's contract.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    Errno::result(ret).map_err(|errno| Error::Clone { errno })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};

    // Ignored so that `cargo test -p box-ns` works without root; `cargo xtask test` runs it.
    #[test]
    #[ignore = "needs root: creates pid and uts namespaces"]
    fn child_is_pid_one_of_a_new_pid_namespace() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs root: creates pid and uts namespaces"
        );
        let opts = CloneOptions {
            flags: CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWUTS,
            into_cgroup: None,
            pidfd: true,
        };
        // SAFETY: the child only calls getpid and _exit, both async-signal-safe.
        match unsafe { clone_child(opts) }.unwrap() {
            Cloned::Child => {
                let code = if nix::unistd::getpid().as_raw() == 1 {
                    0
                } else {
                    1
                };
                // SAFETY: _exit is always safe; it skips the test harness's atexit handlers.
                unsafe { libc::_exit(code) }
            }
            Cloned::Parent { pid, pidfd, .. } => {
                assert!(pidfd.is_some());
                assert_eq!(waitpid(pid, None).unwrap(), WaitStatus::Exited(pid, 0));
            }
        }
    }
}
