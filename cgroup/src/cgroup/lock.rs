//! Who owns a container's cgroup: whoever holds a `flock` on its directories.
//!
//! [`super::Cgroup::create`] locks each directory right after making it and keeps the fds for
//! the handle's lifetime, so the locks vanish with the process that made them, however it
//! dies. A cgroup directory nobody holds a lock on is therefore an orphan (see
//! [`crate::sweep_orphans`]), which a sweep claims by locking it exclusively.
//!
//! Between a creator's `mkdir` and its `flock` the new directory would look orphaned. So a
//! creator holds the parent directory locked too from before that `mkdir` until it holds the
//! new directory's lock, and a sweep lists and claims a parent's children only while it holds
//! that parent exclusively, taken without waiting (a busy parent means the sweep is skipped).
//! Owners and creators lock *shared*: a parent may itself be a live cgroup (nested cgroups),
//! and a creator must neither wait for its owner nor keep it from being owned. `flock`s die
//! with their holder: a creator killed in that instant blocks nothing.
//!
//! nix's `Flock` is not used on purpose: it unlocks when dropped, and the lock belongs to the
//! open file description, which a cloned child shares until it execs. A child dropping its
//! copy must not release box's lock, so box never unlocks; closing the last fd does.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode};

use crate::error::Error;
use crate::fs::{self, Dir};

/// The outcome of a lock taken without waiting.
pub(super) enum Attempt {
    /// Locked; the lock lasts as long as this fd (and its duplicates).
    Got(OwnedFd),
    /// Someone else holds it.
    Busy,
    /// The directory does not exist (any more).
    Gone,
}

/// `flock(fd, op)`; `Ok(false)` when `op` has `LOCK_NB` and another holder has it.
fn flock(fd: BorrowedFd<'_>, op: libc::c_int) -> Result<bool, Errno> {
    loop {
        // SAFETY: flock only reads the fd number, which `fd` keeps open for this call.
        let rc = unsafe { libc::flock(fd.as_raw_fd(), op) };
        match Errno::result(rc) {
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(Errno::EWOULDBLOCK) if op & libc::LOCK_NB != 0 => return Ok(false),
            Err(errno) => return Err(errno),
        }
    }
}

fn lock_err(dir: &Dir) -> impl Fn(Errno) -> Error + '_ {
    |errno| Error::Lock {
        path: dir.path().to_path_buf(),
        errno,
    }
}

/// Open `dir` and lock it exclusively without waiting: a sweep claiming an orphan or holding
/// a parent, a destroy pruning one. What is locked is the directory the path names once
/// the lock is held: one removed in between (its owner destroyed it, and a new one of the
/// same name may follow) counts as gone, since everything after the claim goes by path.
pub(super) fn try_exclusive(dir: &Dir) -> Result<Attempt, Error> {
    let fd = match fs::open_dir(dir) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENODEV) => return Ok(Attempt::Gone),
        Err(errno) => {
            return Err(Error::OpenDir {
                path: dir.path().to_path_buf(),
                errno,
            })
        }
    };
    if !flock(fd.as_fd(), libc::LOCK_EX | libc::LOCK_NB).map_err(lock_err(dir))? {
        return Ok(Attempt::Busy);
    }
    match still_there(&fd, dir)? {
        true => Ok(Attempt::Got(fd)),
        false => Ok(Attempt::Gone),
    }
}

/// Whether `dir` still names the directory open as `fd`.
fn still_there(fd: &OwnedFd, dir: &Dir) -> Result<bool, Error> {
    let locked = fstat(fd).map_err(lock_err(dir))?;
    match fs::identity(dir) {
        Ok(now) => Ok(now == (locked.st_dev, locked.st_ino)),
        Err(Errno::ENOENT | Errno::ENODEV) => Ok(false),
        Err(errno) => Err(lock_err(dir)(errno)),
    }
}

/// Open `parent` and lock it shared, waiting while a sweep lists it or a destroy prunes it.
/// `Ok(None)` when `parent` is gone: the caller makes it again. One pruned between the open
/// and the lock is held removed: a `mkdir` in it fails with `ENOENT` (`ENODEV` on cgroupfs),
/// and the caller starts over, so there is no need to check it here. Hold the returned fd
/// from before the child's mkdir until the child is locked.
pub(super) fn hold_parent(parent: &Dir) -> Result<Option<OwnedFd>, Error> {
    let fd = match fs::open_dir(parent) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENODEV) => return Ok(None),
        Err(errno) => {
            return Err(Error::OpenDir {
                path: parent.path().to_path_buf(),
                errno,
            })
        }
    };
    #[cfg(test)]
    crate::testing::on_parent_lock(parent.path());
    flock(fd.as_fd(), libc::LOCK_SH).map_err(lock_err(parent))?;
    Ok(Some(fd))
}

/// The outcome of locking a directory just made.
pub(super) enum Fresh {
    Locked(OwnedFd),
    /// Removed before we could open it: only a process claiming the same name does that.
    Vanished,
}

/// Open `dir`, just made in the parent held as `parent_fd`, and lock it shared, as owners
/// do. Nobody else can hold it (sweeps wait for the parent) unless another process claims the
/// same name: that is a name conflict, reported as [`Error::Exists`].
pub(super) fn lock_fresh(parent_fd: BorrowedFd<'_>, dir: &Dir) -> Result<Fresh, Error> {
    let name = dir.name().ok_or_else(|| lock_err(dir)(Errno::EINVAL))?;
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = match openat(parent_fd, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENODEV) => return Ok(Fresh::Vanished),
        Err(errno) => {
            return Err(Error::OpenDir {
                path: dir.path().to_path_buf(),
                errno,
            })
        }
    };
    match flock(fd.as_fd(), libc::LOCK_SH | libc::LOCK_NB).map_err(lock_err(dir))? {
        true => Ok(Fresh::Locked(fd)),
        false => Err(Error::Exists {
            path: dir.path().to_path_buf(),
        }),
    }
}
