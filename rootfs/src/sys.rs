//! Thin wrappers over the syscalls, each turning an errno into a step-named
//! [`Error`].

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag};
use nix::mount::MsFlags;
use nix::sys::stat::{self, Mode};
use nix::sys::statvfs::{fstatvfs, FsFlags};

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

// From <linux/mount.h> / <linux/fcntl.h>; the libc crate does not export
// them on every target yet.
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const AT_RECURSIVE: libc::c_int = 0x8000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Makes the mount whose root is `fd` read-only, and with `recursive` every
/// mount below it too. Other flags (nosuid, nodev…) are kept: a remount that
/// dropped a flag locked by a user namespace would fail with EPERM.
///
/// Uses `mount_setattr(2)` (Linux 5.12+). Older kernels get a plain remount
/// of the top mount only; submounts then keep their own flags. `proc` is
/// where a procfs is mounted (normally [`HOST_PROC`]), for that remount.
pub(crate) fn make_readonly(
    fd: BorrowedFd<'_>,
    shown: &Path,
    recursive: bool,
    proc: &str,
) -> Result<(), Error> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return remount_readonly(fd, shown, proc);
    }
    let flags = libc::AT_EMPTY_PATH | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: the path is a valid NUL-terminated empty string, `attr` is a
    // live, correctly laid out `struct mount_attr` and its size is passed.
    let res = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    match Errno::result(res) {
        Ok(_) => Ok(()),
        // ENOSYS: old kernel; EPERM: some seccomp filters answer that for
        // syscalls they do not know. The remount reports real EPERMs.
        Err(Errno::ENOSYS | Errno::EPERM) => remount_readonly(fd, shown, proc),
        Err(errno) => Err(Error::Mount {
            step: "make read-only",
            src: None,
            target: shown.into(),
            errno,
        }),
    }
}

fn remount_readonly(fd: BorrowedFd<'_>, shown: &Path, proc: &str) -> Result<(), Error> {
    let err = |errno| Error::Mount {
        step: "remount read-only",
        src: None,
        target: shown.into(),
        errno,
    };
    let kept = fstatvfs(fd).map_err(err)?.flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (st, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        (FsFlags::ST_SYNCHRONOUS, MsFlags::MS_SYNCHRONOUS),
    ] {
        if kept.contains(st) {
            flags |= ms;
        }
    }
    nix::mount::mount(
        None::<&str>,
        &fd_path_in(proc, fd),
        None::<&str>,
        flags,
        None::<&str>,
    )
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::in_mount_ns;
    use nix::sys::statvfs::statvfs;
    use std::os::fd::AsFd;

    fn flags(p: &Path) -> Result<FsFlags, String> {
        statvfs(p).map(|s| s.flags()).map_err(|e| e.to_string())
    }

    /// The pre-5.12 path: a remount that keeps nosuid/nodev/noexec.
    #[test]
    fn remount_fallback_keeps_flags() {
        in_mount_ns(|| {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let p = dir.path();
            let locked = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            mount_fs("t", "tmpfs", p, p, locked, None).map_err(|e| e.to_string())?;
            let fd = open_path("t", p).map_err(|e| e.to_string())?;
            remount_readonly(fd.as_fd(), p, "/proc").map_err(|e| e.to_string())?;
            let f = flags(p)?;
            let want =
                FsFlags::ST_RDONLY | FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_NOEXEC;
            if !f.contains(want) {
                return Err(format!("flags after remount: {f:?}"));
            }
            Ok(())
        });
    }

    /// mount_setattr: recursive reaches submounts, non-recursive does not.
    #[test]
    fn make_readonly_recursive_or_not() {
        in_mount_ns(|| {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            for top in [&a, &b] {
                std::fs::create_dir(top).map_err(|e| e.to_string())?;
                mount_fs("t", "tmpfs", top, top, MsFlags::MS_NOSUID, None)
                    .map_err(|e| e.to_string())?;
                std::fs::create_dir(top.join("sub")).map_err(|e| e.to_string())?;
                mount_fs("t", "tmpfs", &top.join("sub"), top, MsFlags::empty(), None)
                    .map_err(|e| e.to_string())?;
            }
            let fd = open_path("t", &a).map_err(|e| e.to_string())?;
            make_readonly(fd.as_fd(), &a, true, "/proc").map_err(|e| e.to_string())?;
            let fd = open_path("t", &b).map_err(|e| e.to_string())?;
            make_readonly(fd.as_fd(), &b, false, "/proc").map_err(|e| e.to_string())?;
            let ro = |p: &Path| flags(p).map(|f| f.contains(FsFlags::ST_RDONLY));
            match (ro(&a)?, ro(&a.join("sub"))?, ro(&b)?, ro(&b.join("sub"))?) {
                (true, true, true, false) => {}
                other => return Err(format!("read-only a, a/sub, b, b/sub: {other:?}")),
            }
            if !flags(&a)?.contains(FsFlags::ST_NOSUID) {
                return Err("nosuid lost".into());
            }
            Ok(())
        });
    }
}
