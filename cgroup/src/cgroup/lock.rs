//! Who owns a container's cgroup: whoever holds an exclusive `flock` on its directories.
//!
//! [`super::Cgroup::create`] locks each directory right after making it and keeps the fds for
//! the handle's lifetime, so the locks vanish with the process that made them, however it
//! dies. A cgroup directory nobody holds a lock on is therefore an orphan (see
//! [`crate::sweep_orphans`]).
//!
//! nix's `Flock` is not used on purpose: it unlocks when dropped, and the lock belongs to the
//! open file description, which a cloned child shares until it execs. A child dropping its
//! copy must not release box's lock, so box never unlocks; closing the last fd does.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::fstat;

use super::create::open_dir;
use crate::error::{errno_of, Error};

/// Take an exclusive lock on `fd` (a directory opened by [`open_dir`]). Waits when `wait`,
/// else returns `Ok(false)` at once if another open file description holds it.
pub(super) fn lock(fd: BorrowedFd<'_>, dir: &Path, wait: bool) -> Result<bool, Error> {
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock only reads the fd number, which `fd` keeps open for this call.
        let rc = unsafe { libc::flock(fd.as_raw_fd(), op) };
        match Errno::result(rc) {
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(Errno::EWOULDBLOCK) if !wait => return Ok(false),
            Err(errno) => {
                return Err(Error::Lock {
                    path: dir.to_path_buf(),
                    errno,
                })
            }
        }
    }
}

/// Open `dir` and lock it, waiting for a sweeper that holds it. `Ok(None)` when `dir` is not
/// (any more) the directory that was locked: a sweeper took it for an orphan in the instant
/// between our mkdir and our lock, and removed it. The caller then makes it again.
pub(super) fn own(dir: &Path) -> Result<Option<OwnedFd>, Error> {
    let Some(fd) = open_existing(dir)? else {
        return Ok(None);
    };
    lock(fd.as_fd(), dir, true)?;
    let locked = fstat(&fd).map_err(|errno| Error::Lock {
        path: dir.to_path_buf(),
        errno,
    })?;
    match std::fs::metadata(dir) {
        Ok(now) if now.dev() == locked.st_dev && now.ino() == locked.st_ino => Ok(Some(fd)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Lock {
            path: dir.to_path_buf(),
            errno: errno_of(&e),
        }),
    }
}

/// Open `dir` and try to lock it without waiting: `Ok(None)` if its owner holds the lock or
/// the directory is gone.
pub(super) fn try_claim(dir: &Path) -> Result<Option<OwnedFd>, Error> {
    let Some(fd) = open_existing(dir)? else {
        return Ok(None);
    };
    Ok(lock(fd.as_fd(), dir, false)?.then_some(fd))
}

/// Open `dir`; `Ok(None)` if it is gone.
fn open_existing(dir: &Path) -> Result<Option<OwnedFd>, Error> {
    match open_dir(dir) {
        Ok(fd) => Ok(Some(fd)),
        Err(Error::OpenDir {
            errno: Errno::ENOENT,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}
