//! A process joining a cgroup by itself, on the v1 hierarchies.
//!
//! Moving another process (`cgroup.procs` ← its pid) takes the kernel's global
//! `cgroup_threadgroup_rwsem` for writing, and taking it waits for an RCU grace period
//! whenever no writer held it just before: milliseconds, tens under load, on every start.
//! A single thread moving itself (`tasks` ← `0`) needs no such lock (the kernel's
//! `cgroup_procs_write_start`), so a child that is still single-threaded joins faster than its
//! parent could move it. On the unified hierarchy `clone3(CLONE_INTO_CGROUP)` places the
//! child at birth, also without that lock.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::fcntl::OFlag;

use super::Cgroup;
use crate::error::Error;

/// The `tasks` files of a cgroup's v1 directories, opened (by a process allowed to write
/// them) for a single-threaded process to join by itself: the fds keep the opener's
/// credentials, so the joiner may have dropped its own by then.
#[derive(Debug)]
pub struct SelfJoin {
    pub(super) tasks: Vec<(PathBuf, OwnedFd)>,
}

impl Cgroup {
    /// The v1 `tasks` files (close-on-exec) for [`SelfJoin::join`]. On a pure v2 host there
    /// are none: place the process with `clone3(CLONE_INTO_CGROUP)` and [`Cgroup::v2_fd`], or
    /// [`Cgroup::add_process`].
    pub fn self_join(&self) -> Result<SelfJoin, Error> {
        let tasks = self
            .v1()
            .iter()
            .map(|d| {
                let path = d.dir.path().join("tasks");
                match d.dir.open("tasks", OFlag::O_WRONLY) {
                    Ok(fd) => Ok((path, fd)),
                    Err(errno) => Err(Error::Write {
                        path,
                        value: "0".into(),
                        errno,
                    }),
                }
            })
            .collect::<Result<_, Error>>()?;
        Ok(SelfJoin { tasks })
    }

    /// Move `pid` into this cgroup on the unified hierarchy only (the v1 ones being joined
    /// with [`Cgroup::self_join`]); nothing on a host without cgroup2.
    pub fn add_process_v2(&self, pid: nix::unistd::Pid) -> Result<(), Error> {
        match &self.v2 {
            Some(d) => crate::fs::write(&d.dir, "cgroup.procs", &pid.as_raw().to_string()),
            None => Ok(()),
        }
    }
}

impl SelfJoin {
    /// The `tasks` fds, in order, to hand to the joiner ([`crate::Prepared::self_join_of`]).
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.tasks.iter().map(|(_, fd)| fd.as_fd()).collect()
    }

    /// Moves the calling thread into the cgroup on every v1 hierarchy. The caller must be the
    /// only thread of its process (a freshly cloned child): `tasks` moves one thread.
    pub fn join(&self) -> Result<(), Error> {
        for (path, fd) in &self.tasks {
            nix::unistd::write(fd, b"0").map_err(|errno| Error::Write {
                path: path.clone(),
                value: "0".into(),
                errno,
            })?;
        }
        Ok(())
    }
}
