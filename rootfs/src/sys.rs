//! Thin wrappers over the syscalls, each turning an errno into a step-named
//! [`Error`].

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::mount::MsFlags;
use nix::sys::stat::{self, Mode};

use crate::Error;

/// Where the host's procfs is while the new root is being built. Mount
/// targets are reached through `/proc/self/fd/N` of an fd resolved safely, so
/// the kernel never walks a container-controlled path.
pub(crate) const HOST_PROC: &str = "/oldroot/proc";

/// `/oldroot/proc/self/fd/N` for `fd` (valid while the host root is at
/// `/oldroot`, i.e. between staging and the final pivot).
pub(crate) fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    fd_path_in(HOST_PROC, fd)
}

/// `<proc>/self/fd/N` for `fd`.
pub(crate) fn fd_path_in(proc: &str, fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("{proc}/self/fd/{}", fd.as_raw_fd()))
}

/// `mount(2)`. `shown` is the target as the container will see it, for the
/// error message; `target` is what the kernel gets (often an fd path).
pub(crate) fn mount(
    step: &'static str,
    src: Option<&Path>,
    target: &Path,
    shown: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), Error> {
    nix::mount::mount(src, target, fstype, flags, data).map_err(|errno| Error::Mount {
        step,
        src: src.map(Path::to_path_buf),
        target: shown.into(),
        errno,
    })
}

/// A fresh kernel filesystem (`fstype` names both source and type).
pub(crate) fn mount_fs(
    step: &'static str,
    fstype: &str,
    target: &Path,
    shown: &Path,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), Error> {
    nix::mount::mount(Some(fstype), target, Some(fstype), flags, data).map_err(|errno| {
        Error::Mount {
            step,
            src: Some(fstype.into()),
            target: shown.into(),
            errno,
        }
    })
}

/// Opens `path` as an `O_PATH` handle (following symlinks: for trusted paths).
pub(crate) fn open_path(step: &'static str, path: &Path) -> Result<OwnedFd, Error> {
    fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).map_err(|errno| Error::Fs {
        step,
        path: path.into(),
        errno,
    })
}

/// `O_PATH|O_NOFOLLOW` handle on `name` inside `dir`.
pub(crate) fn open_at(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<OwnedFd> {
    fcntl::openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// `mkdirat` that accepts an existing entry (it is checked when opened).
pub(crate) fn mkdir_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    shown: &Path,
) -> Result<(), Error> {
    match stat::mkdirat(dir, name, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(errno) => Err(Error::Fs {
            step: "mkdir",
            path: shown.into(),
            errno,
        }),
    }
}

/// Creates an empty regular file (a bind-mount point); an existing entry is fine.
pub(crate) fn touch_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    shown: &Path,
) -> Result<(), Error> {
    let perm = Mode::from_bits_truncate(mode);
    match stat::mknodat(dir, name, stat::SFlag::S_IFREG, perm, 0) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(errno) => Err(Error::Fs {
            step: "create file",
            path: shown.into(),
            errno,
        }),
    }
}

/// `symlinkat(link, dir, name)`.
pub(crate) fn symlink_at(
    link: &Path,
    dir: BorrowedFd<'_>,
    name: &str,
    shown: &Path,
) -> Result<(), Error> {
    nix::unistd::symlinkat(link, dir, name).map_err(|errno| Error::Fs {
        step: "create symlink",
        path: shown.into(),
        errno,
    })
}

pub(crate) use crate::setattr::{make_readonly, set_flags};
