//! File operations relative to the layer directory's fd. Nothing here joins paths or follows
//! a symlink: directories are opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)` (or, before Linux 5.6, one `O_NOFOLLOW` open per
//! component), and every entry is made by a `*at` call on a single name under such a
//! directory.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{self, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{self, Mode, SFlag};

/// The overlay whiteout: a character device 0/0 (Linux's `WHITEOUT_DEV`).
pub const WHITEOUT_DEV: libc::dev_t = 0;
/// The xattr that makes an overlay directory hide what lower layers have in it.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// `name` as a path argument: a single component from a tar entry.
pub fn os(name: &[u8]) -> &OsStr {
    OsStr::from_bytes(name)
}

/// Opens the directory `rel` (components, no `.` or `..`) beneath `root`, following nothing.
pub fn open_dir(root: BorrowedFd<'_>, rel: &[&[u8]]) -> nix::Result<OwnedFd> {
    if rel.is_empty() {
        return fcntl::openat(
            root,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        );
    }
    let path = rel.join(&b'/');
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    match fcntl::openat2(root, os(&path), how) {
        Err(Errno::ENOSYS | Errno::EPERM) => walk(root, rel),
        other => other,
    }
}

/// [`open_dir`] one `O_NOFOLLOW` component at a time (kernels before 5.6).
fn walk(root: BorrowedFd<'_>, rel: &[&[u8]]) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut cur = fcntl::openat(root, ".", flags, Mode::empty())?;
    for name in rel {
        cur = fcntl::openat(&cur, os(name), flags, Mode::empty()).map_err(|e| match e {
            // O_NOFOLLOW on a symlink with O_DIRECTORY gives ENOTDIR on some kernels.
            Errno::ENOTDIR if is_symlink(cur.as_fd(), name) => Errno::ELOOP,
            e => e,
        })?;
    }
    Ok(cur)
}

fn is_symlink(dir: BorrowedFd<'_>, name: &[u8]) -> bool {
    kind_at(dir, name).is_ok_and(|k| k == SFlag::S_IFLNK)
}

/// The file type of `name` in `dir`, without following it.
pub fn kind_at(dir: BorrowedFd<'_>, name: &[u8]) -> nix::Result<SFlag> {
    let st = stat::fstatat(dir, os(name), AtFlags::AT_SYMLINK_NOFOLLOW)?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT)
}

/// Whether `name` in `dir` is an overlay whiteout.
pub fn is_whiteout(dir: BorrowedFd<'_>, name: &[u8]) -> bool {
    stat::fstatat(dir, os(name), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|st| stat_is_whiteout(&st))
}

/// Whether `st` is an overlay whiteout's (a character device 0/0).
pub fn stat_is_whiteout(st: &stat::FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR
        && st.st_rdev == WHITEOUT_DEV
}

/// Removes `name` from `dir`, a directory with everything in it.
pub fn remove(dir: BorrowedFd<'_>, name: &[u8]) -> nix::Result<()> {
    use nix::unistd::{unlinkat, UnlinkatFlags};
    match unlinkat(dir, os(name), UnlinkatFlags::NoRemoveDir) {
        Err(Errno::EISDIR) => {}
        other => return other,
    }
    // A directory: std's remove_dir_all opens each level without following links. The
    // path goes through our fd of `dir`, and `name` is one component it does not follow.
    let path =
        std::path::PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(os(name));
    std::fs::remove_dir_all(path)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// Makes directory `name` in `dir` (0700 until its own mode is applied at the end) and opens
/// it; an existing directory is opened as it is, anything else in the way is replaced (the
/// bool says so). A whiteout in the way means lower layers' directory of that name is gone:
/// the new one is made opaque.
pub fn make_dir(dir: BorrowedFd<'_>, name: &[u8]) -> nix::Result<(OwnedFd, bool)> {
    let mut opaque = false;
    let mut replaced = false;
    match stat::mkdirat(dir, os(name), Mode::from_bits_truncate(0o700)) {
        Ok(()) => {}
        Err(Errno::EEXIST) => match kind_at(dir, name)? {
            SFlag::S_IFDIR => {}
            _ => {
                opaque = is_whiteout(dir, name);
                replaced = true;
                remove(dir, name)?;
                stat::mkdirat(dir, os(name), Mode::from_bits_truncate(0o700))?;
            }
        },
        Err(e) => return Err(e),
    }
    let fd = open_dir(dir, &[name])?;
    if opaque {
        set_xattr(fd.as_fd(), OPAQUE_XATTR, b"y")?;
    }
    Ok((fd, replaced))
}

/// Runs `make` to create `name` in `dir`; when something is already there (an earlier entry
/// of the same layer), removes it and runs `make` once more (and returns true).
pub fn replace(
    dir: BorrowedFd<'_>,
    name: &[u8],
    mut make: impl FnMut() -> nix::Result<()>,
) -> nix::Result<bool> {
    match make() {
        Err(Errno::EEXIST) => {
            remove(dir, name)?;
            make().map(|()| true)
        }
        other => other.map(|()| false),
    }
}

/// Creates regular file `name` with permission bits `mode` (less the umask) for writing;
/// true when it replaced something.
pub fn create_file(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> nix::Result<(OwnedFd, bool)> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let open = || fcntl::openat(dir, os(name), flags, Mode::from_bits_truncate(mode & 0o777));
    match open() {
        Err(Errno::EEXIST) => {
            remove(dir, name)?;
            open().map(|fd| (fd, true))
        }
        other => other.map(|fd| (fd, false)),
    }
}

/// `fsetxattr` on an open file or directory.
pub fn set_xattr(fd: BorrowedFd<'_>, key: &str, value: &[u8]) -> nix::Result<()> {
    let key = CString::new(key).map_err(|_| Errno::EINVAL)?;
    // SAFETY: key is NUL-terminated, value is a valid slice for its length, fd is open.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    Errno::result(rc).map(drop)
}

/// `fgetxattr` of a small value (`None` when unset).
pub fn get_xattr(fd: BorrowedFd<'_>, key: &str) -> nix::Result<Option<Vec<u8>>> {
    let key = CString::new(key).map_err(|_| Errno::EINVAL)?;
    let mut buf = [0u8; 256];
    // SAFETY: key is NUL-terminated and buf is writable for its length.
    let rc = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            key.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    match Errno::result(rc) {
        Ok(n) => Ok(Some(buf[..n as usize].to_vec())),
        Err(Errno::ENODATA) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether this process may give files away (chown) and make device nodes: root, by its
/// effective uid. Without it files keep box's own ownership.
pub fn privileged() -> bool {
    nix::unistd::geteuid().is_root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn directories_open_beneath_without_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        symlink("/", d.join("abs")).unwrap();
        symlink("a", d.join("rel")).unwrap();
        std::fs::write(d.join("file"), b"").unwrap();
        let root = fcntl::open(d, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        for open in [open_dir, walk] {
            assert!(open(root.as_fd(), &[b"a", b"b"]).is_ok());
            assert_eq!(open(root.as_fd(), &[b"abs"]).unwrap_err(), Errno::ELOOP);
            assert_eq!(
                open(root.as_fd(), &[b"rel", b"b"]).unwrap_err(),
                Errno::ELOOP
            );
            assert_eq!(open(root.as_fd(), &[b"file"]).unwrap_err(), Errno::ENOTDIR);
            assert_eq!(
                open(root.as_fd(), &[b"missing"]).unwrap_err(),
                Errno::ENOENT
            );
        }
    }

    #[test]
    fn replacing_removes_whatever_is_there_without_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"x").unwrap();
        let d = dir.path();
        symlink(outside.path(), d.join("link")).unwrap();
        std::fs::create_dir_all(d.join("tree/sub")).unwrap();
        symlink(outside.path(), d.join("tree/sub/out")).unwrap();
        let root = fcntl::open(d, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        let (_, replaced) = make_dir(root.as_fd(), b"link").unwrap();
        assert!(replaced);
        assert!(d.join("link").symlink_metadata().unwrap().is_dir());
        assert!(create_file(root.as_fd(), b"tree", 0o600).unwrap().1);
        assert!(d.join("tree").symlink_metadata().unwrap().is_file());
        assert!(
            outside.path().join("keep").exists(),
            "nothing outside was touched"
        );
    }
}
