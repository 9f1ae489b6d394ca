//! The new mount API (Linux 5.2+): a filesystem is created as an fd and
//! attached to a target fd. The caller keeps a handle on exactly the mount it
//! made, whatever happens to names afterwards, and the kernel walks no path.
//! nix has no wrappers for these calls yet.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;

/// A failed call: which one, and what the kernel said.
pub(crate) type Failed = (&'static str, Errno);

/// A new, detached mount of a fresh `fstype` shown with `source` (`none` without), with the
/// filesystem options `data` (`key=value` or a bare `key`, as `mount -o` takes them) and the
/// mount flags of `flags`.
pub(crate) fn fresh(
    fstype: &str,
    source: Option<&Path>,
    data: &[String],
    flags: MsFlags,
) -> Result<OwnedFd, Failed> {
    let ctx = open_fs(fstype)?;
    let string = |s: &[u8]| CString::new(s).map_err(|_| ("fsconfig", Errno::EINVAL));
    if let Some(source) = source {
        let value = string(source.as_os_str().as_bytes())?;
        config(
            &ctx,
            libc::FSCONFIG_SET_STRING,
            Some(c"source"),
            Some(&value),
        )?;
    }
    for word in data {
        match word.split_once('=') {
            Some((key, value)) => {
                let (key, value) = (string(key.as_bytes())?, string(value.as_bytes())?);
                config(&ctx, libc::FSCONFIG_SET_STRING, Some(&key), Some(&value))?;
            }
            None => {
                let key = string(word.as_bytes())?;
                config(&ctx, libc::FSCONFIG_SET_FLAG, Some(&key), None)?;
            }
        }
    }
    create_and_mount(&ctx, flags)
}

/// A new filesystem context of type `fstype` (`fsopen`), to be configured and mounted.
pub(crate) fn open_fs(fstype: &str) -> Result<OwnedFd, Failed> {
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return Err(("fsopen", Errno::ENOSYS));
    }
    let fstype = cstring(fstype).map_err(|e| ("fsopen", e))?;
    // SAFETY: `fstype` is NUL-terminated; the call returns a new fd or -1.
    owned("fsopen", unsafe {
        libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), libc::FSOPEN_CLOEXEC)
    })
}

/// Sets the string parameter `key` of the context `ctx` (a failure is reported as `step`).
pub(crate) fn set_string(
    ctx: &OwnedFd,
    step: &'static str,
    key: &str,
    value: &[u8],
) -> Result<(), Failed> {
    let key = cstring(key).map_err(|e| (step, e))?;
    let value = CString::new(value).map_err(|_| (step, Errno::EINVAL))?;
    config(ctx, libc::FSCONFIG_SET_STRING, Some(&key), Some(&value)).map_err(|(_, e)| (step, e))
}

/// Sets the flag parameter `key` of the context `ctx` (a failure is reported as `step`).
pub(crate) fn set_flag(ctx: &OwnedFd, step: &'static str, key: &str) -> Result<(), Failed> {
    let key = cstring(key).map_err(|e| (step, e))?;
    config(ctx, libc::FSCONFIG_SET_FLAG, Some(&key), None).map_err(|(_, e)| (step, e))
}

/// Creates the filesystem of the configured context and a detached mount of it with the
/// mount flags of `flags`.
pub(crate) fn create_and_mount(ctx: &OwnedFd, flags: MsFlags) -> Result<OwnedFd, Failed> {
    config(ctx, libc::FSCONFIG_CMD_CREATE, None, None)?;
    // SAFETY: `ctx` is a live fs context fd; flags and attributes are plain integers.
    owned("fsmount", unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            ctx.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attributes(flags),
        )
    })
}

fn config(
    ctx: &OwnedFd,
    cmd: libc::c_uint,
    key: Option<&CStr>,
    value: Option<&CStr>,
) -> Result<(), Failed> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: `ctx` is a live fs context fd; key and value are NUL-terminated
    // strings or null, as the command requires.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            cmd,
            ptr(key),
            ptr(value),
            0,
        )
    };
    Errno::result(rc).map(drop).map_err(|e| ("fsconfig", e))
}

/// A detached copy of the mount tree at `src` (with `recursive`, its submounts
/// too), like the source of `mount --bind` / `--rbind`.
pub(crate) fn clone_tree(src: BorrowedFd<'_>, recursive: bool) -> Result<OwnedFd, Failed> {
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return Err(("open_tree", Errno::ENOSYS));
    }
    let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: `src` is a live fd, the path is an empty NUL-terminated string.
    owned("open_tree", unsafe {
        libc::syscall(libc::SYS_open_tree, src.as_raw_fd(), c"".as_ptr(), flags)
    })
}

/// Attaches the detached mount `mnt` on the file or directory `target`
/// refers to (on top of whatever is mounted there already).
pub(crate) fn attach(mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> Result<(), Failed> {
    move_mount(mnt, target, c"", libc::MOVE_MOUNT_T_EMPTY_PATH)
}

/// Attaches the detached mount `mnt` on `name`, an entry of the directory `dir` (one plain
/// component, not followed if it is a symlink).
pub(crate) fn attach_at(
    mnt: BorrowedFd<'_>,
    dir: BorrowedFd<'_>,
    name: &str,
) -> Result<(), Failed> {
    let name = cstring(name).map_err(|e| ("move_mount", e))?;
    move_mount(mnt, dir, &name, 0)
}

/// `move_mount(mnt, "", dir, to, MOVE_MOUNT_F_EMPTY_PATH | flags)`.
fn move_mount(
    mnt: BorrowedFd<'_>,
    dir: BorrowedFd<'_>,
    to: &CStr,
    flags: libc::c_uint,
) -> Result<(), Failed> {
    // SAFETY: both fds are live; both paths are NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mnt.as_raw_fd(),
            c"".as_ptr(),
            dir.as_raw_fd(),
            to.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH | flags,
        )
    };
    Errno::result(rc).map(drop).map_err(|e| ("move_mount", e))
}

/// Whether a failure means "this kernel (or a seccomp filter around box)
/// does not offer the call", so the classic `mount(2)` is the way.
pub(crate) fn unsupported(failed: &Failed) -> bool {
    matches!(
        failed,
        ("fsopen" | "open_tree", Errno::ENOSYS | Errno::EPERM)
    )
}

/// `MOUNT_ATTR_*` for the per-mount flags in `flags` (relatime is the zero value of the
/// access-time field).
pub(crate) fn attributes(flags: MsFlags) -> u64 {
    [
        (MsFlags::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, libc::MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_STRICTATIME, libc::MOUNT_ATTR_STRICTATIME),
        (MsFlags::MS_NOATIME, libc::MOUNT_ATTR_NOATIME),
        (MsFlags::MS_RELATIME, libc::MOUNT_ATTR_RELATIME),
        (MsFlags::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
        (
            MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW),
            libc::MOUNT_ATTR_NOSYMFOLLOW,
        ),
    ]
    .into_iter()
    .filter(|(ms, _)| flags.contains(*ms))
    .fold(0, |acc, (_, attr)| acc | attr)
}

fn cstring(s: &str) -> Result<CString, Errno> {
    CString::new(s).map_err(|_| Errno::EINVAL)
}

fn owned(step: &'static str, rc: libc::c_long) -> Result<OwnedFd, Failed> {
    let fd = Errno::result(rc).map_err(|e| (step, e))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_mount_attributes() {
        let f = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME;
        assert_eq!(
            attributes(f),
            libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_STRICTATIME
        );
        assert_eq!(attributes(MsFlags::MS_RDONLY), libc::MOUNT_ATTR_RDONLY);
        assert_eq!(attributes(MsFlags::empty()), 0);
    }
}
