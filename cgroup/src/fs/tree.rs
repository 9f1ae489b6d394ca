//! Directories of a hierarchy: made, removed, listed, opened and identified through their
//! parent's fd, never by a path walked from `/`.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::dir::{Dir as DirStream, Type};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, mkdirat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::Dir;
use crate::error::errno_of;

/// mkdir; `Ok(false)` if it already existed.
pub(crate) fn mkdir(dir: &Dir) -> Result<bool, Errno> {
    let (parent, _) = parent_and_name(dir)?;
    let parent_fd = parent.open("", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    mkdir_in(parent_fd.as_fd(), dir)
}

/// mkdir `dir` in its parent, open as `parent_fd`; `Ok(false)` if it already existed.
pub(crate) fn mkdir_in(parent_fd: BorrowedFd<'_>, dir: &Dir) -> Result<bool, Errno> {
    let (_, name) = parent_and_name(dir)?;
    match mkdirat(parent_fd, name, Mode::from_bits_truncate(0o755)) {
        Ok(()) => {
            #[cfg(test)]
            crate::testing::on_mkdir(dir.path());
            Ok(true)
        }
        Err(Errno::EEXIST) => Ok(false),
        Err(errno) => Err(errno),
    }
}

/// rmdir; cgroupfs lets a cgroup directory go with its control files once it is empty.
pub(crate) fn rmdir(dir: &Dir) -> Result<(), Errno> {
    let (parent, name) = parent_and_name(dir)?;
    let parent_fd = parent.open("", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    #[cfg(test)]
    crate::testing::before_rmdir(dir.path());
    unlinkat(parent_fd, name, UnlinkatFlags::RemoveDir)
}

/// Open `dir` itself (`O_RDONLY | O_DIRECTORY`): to lock it, list it, or clone into it.
pub(crate) fn open_dir(dir: &Dir) -> Result<OwnedFd, Errno> {
    dir.open("", OFlag::O_RDONLY | OFlag::O_DIRECTORY)
}

pub(crate) fn is_dir(dir: &Dir) -> bool {
    dir.open("", OFlag::O_PATH | OFlag::O_DIRECTORY).is_ok()
}

/// Device and inode of what `dir` names now: tells whether an fd opened earlier still is
/// that directory.
pub(crate) fn identity(dir: &Dir) -> Result<(u64, u64), Errno> {
    let fd = dir.open("", OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    let st = fstat(&fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// The names of the subdirectories of `dir`.
pub(crate) fn subdirs(dir: &Dir) -> Result<Vec<OsString>, Errno> {
    let fd = open_dir(dir)?;
    let probe = fd.try_clone().map_err(|e| errno_of(&e))?;
    let mut stream = DirStream::from_fd(fd)?;
    let mut out = Vec::new();
    for entry in stream.iter() {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            Some(t) => t == Type::Directory,
            None => {
                let st = fstatat(&probe, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
                SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
            }
        };
        if is_dir {
            out.push(name.to_os_string());
        }
    }
    Ok(out)
}

fn parent_and_name(dir: &Dir) -> Result<(Dir, &OsStr), Errno> {
    match (dir.parent(), dir.name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        // The hierarchy's root is never made or removed here.
        _ => Err(Errno::EINVAL),
    }
}
