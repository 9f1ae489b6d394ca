//! Changing the flags of a mount that exists: `mount_setattr(2)` by handle, or on kernels
//! before 5.12 a remount of the top mount that keeps the flags it has.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::statvfs::{fstatvfs, FsFlags};

use crate::sys::fd_path_in;
#[cfg(doc)]
use crate::sys::HOST_PROC;
use crate::{mountapi, Error};

// From <linux/fcntl.h>; the libc crate does not export it on every target yet.
const AT_RECURSIVE: libc::c_int = 0x8000;

/// The kernel's `struct mount_attr` (version 0, 32 bytes).
#[repr(C)]
pub(crate) struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH | extra_flags, attr)`: the mount `fd` refers to
/// (with `AT_RECURSIVE` in `extra_flags`, the tree below it too).
pub(crate) fn mount_setattr(
    fd: BorrowedFd<'_>,
    extra_flags: libc::c_int,
    attr: &MountAttr,
) -> Result<(), Errno> {
    // SAFETY: the path is a valid NUL-terminated empty string, `attr` is a live, correctly
    // laid out `struct mount_attr` and its size is passed.
    let res = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | extra_flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    Errno::result(res).map(drop)
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
    let change = Change {
        set: MsFlags::MS_RDONLY,
        clear: MsFlags::empty(),
        steps: ("make read-only", "remount read-only"),
    };
    setattr(fd, shown, &change, recursive, proc)
}

/// Sets the flags `set` and clears `clear` (`MS_*` per-mount flags) on the mount whose root
/// is `fd` alone, keeping the others, as [`make_readonly`] does.
pub(crate) fn set_flags(
    fd: BorrowedFd<'_>,
    shown: &Path,
    set: MsFlags,
    clear: MsFlags,
    proc: &str,
) -> Result<(), Error> {
    let change = Change {
        set,
        clear,
        steps: ("set mount flags", "remount with mount flags"),
    };
    setattr(fd, shown, &change, false, proc)
}

/// Sets the flags `set` (`MS_*` per-mount flags) on the mount whose root is `fd` and on every
/// mount below it, in one `mount_setattr(AT_RECURSIVE)`, keeping the others. `Ok(false)`: the
/// kernel (or a seccomp filter around box) does not offer the call, and nothing changed.
pub(crate) fn set_flags_of_tree(
    fd: BorrowedFd<'_>,
    shown: &Path,
    set: MsFlags,
) -> Result<bool, Error> {
    let attr = mount_attr(set, MsFlags::empty());
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return Ok(false);
    }
    match mount_setattr(fd, AT_RECURSIVE, &attr) {
        Ok(()) => Ok(true),
        Err(Errno::ENOSYS | Errno::EPERM) => Ok(false),
        Err(errno) => Err(Error::Mount {
            step: "set mount flags of a tree",
            src: None,
            target: shown.into(),
            errno,
        }),
    }
}

/// Flags to set and clear, and the steps (`mount_setattr`, remount) for messages.
struct Change {
    set: MsFlags,
    clear: MsFlags,
    steps: (&'static str, &'static str),
}

/// The `struct mount_attr` that sets the per-mount flags `set` and clears `clear`.
fn mount_attr(set: MsFlags, clear: MsFlags) -> MountAttr {
    // The access time is one mode: changing it clears the field first.
    let atime = if (set | clear).intersects(ATIME) {
        libc::MOUNT_ATTR__ATIME
    } else {
        0
    };
    MountAttr {
        attr_set: mountapi::attributes(set),
        attr_clr: mountapi::attributes(clear) | atime,
        propagation: 0,
        userns_fd: 0,
    }
}

const ATIME: MsFlags = MsFlags::MS_NOATIME
    .union(MsFlags::MS_RELATIME)
    .union(MsFlags::MS_STRICTATIME);

fn setattr(
    fd: BorrowedFd<'_>,
    shown: &Path,
    change: &Change,
    recursive: bool,
    proc: &str,
) -> Result<(), Error> {
    let attr = mount_attr(change.set, change.clear);
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return remount(fd, shown, change, proc);
    }
    match mount_setattr(fd, if recursive { AT_RECURSIVE } else { 0 }, &attr) {
        Ok(_) => Ok(()),
        // ENOSYS: old kernel; EPERM: some seccomp filters answer that for
        // syscalls they do not know. The remount reports real EPERMs.
        Err(Errno::ENOSYS | Errno::EPERM) => remount(fd, shown, change, proc),
        Err(errno) => Err(Error::Mount {
            step: change.steps.0,
            src: None,
            target: shown.into(),
            errno,
        }),
    }
}

/// The pre-5.12 way: a remount of the top mount with the flags it has, changed.
fn remount(fd: BorrowedFd<'_>, shown: &Path, change: &Change, proc: &str) -> Result<(), Error> {
    let err = |errno| Error::Mount {
        step: change.steps.1,
        src: None,
        target: shown.into(),
        errno,
    };
    let kept = fstatvfs(fd).map_err(err)?.flags();
    let mut flags = MsFlags::empty();
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
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
    if change.set.intersects(ATIME) {
        flags -= ATIME;
    }
    flags = (flags | change.set) - change.clear;
    nix::mount::mount(
        None::<&str>,
        &fd_path_in(proc, fd),
        None::<&str>,
        flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT,
        None::<&str>,
    )
    .map_err(err)
}

#[cfg(test)]
fn remount_readonly(fd: BorrowedFd<'_>, shown: &Path, proc: &str) -> Result<(), Error> {
    let change = Change {
        set: MsFlags::MS_RDONLY,
        clear: MsFlags::empty(),
        steps: ("make read-only", "remount read-only"),
    };
    remount(fd, shown, &change, proc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{mount_fs, open_path};
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
