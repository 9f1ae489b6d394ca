//! Opening paths beneath a trusted directory handle without following any
//! symlink: the root's own `/proc`, `/sys` and `/dev`, and the masked and
//! read-only paths inside the filesystems box mounted there. Unlike
//! [`resolve`](crate::resolve), nothing is replayed: a link is refused.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::fcntl::{self, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode, SFlag};

use crate::resolve::Create;
use crate::sys::open_at;
use crate::Error;

/// Opens `rel` (a relative path) beneath `dir` as an `O_PATH` handle. No
/// component may be a symlink (ELOOP), the last one included, and none may
/// lead out of `dir` (EXDEV); mount points below `dir` are crossed.
///
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`
/// (Linux 5.6+); without it, one `openat(O_NOFOLLOW)` per component.
pub(crate) fn open_beneath(dir: BorrowedFd<'_>, rel: &Path) -> nix::Result<OwnedFd> {
    #[cfg(test)]
    if crate::testutil::old_kernel() {
        return walk(dir, rel);
    }
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    match fcntl::openat2(dir, rel, how) {
        // ENOSYS: before 5.6; EPERM: how seccomp filters answer calls they
        // do not know. The walk reports real errors itself.
        Err(Errno::ENOSYS | Errno::EPERM) => walk(dir, rel),
        other => other,
    }
}

/// [`open_beneath`] one component at a time.
fn walk(dir: BorrowedFd<'_>, rel: &Path) -> nix::Result<OwnedFd> {
    let mut names = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(name) => names.push(name),
            Component::CurDir => {}
            Component::RootDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(Errno::EXDEV)
            }
        }
    }
    let mut cur = dir.try_clone_to_owned().map_err(|_| Errno::EMFILE)?;
    for (i, name) in names.iter().enumerate() {
        let fd = open_at(cur.as_fd(), name)?;
        match kind(&fd)? {
            SFlag::S_IFLNK => return Err(Errno::ELOOP),
            SFlag::S_IFDIR => {}
            _ if i + 1 < names.len() => return Err(Errno::ENOTDIR),
            _ => {}
        }
        cur = fd;
    }
    Ok(cur)
}

/// Opens `rel` beneath `dir` (a mount box made at `/proc`, `/sys` or `/dev`) one component at
/// a time, no symlink followed, creating what is missing: the directories on the way, and the
/// last component as `last` says (in procfs or sysfs the kernel refuses). Returns an `O_PATH`
/// handle and whether the last component was created.
pub(crate) fn make(
    dir: BorrowedFd<'_>,
    rel: &Path,
    shown: &Path,
    last: Create,
) -> Result<(OwnedFd, bool), Error> {
    let fs = |step, errno| Error::Fs {
        step,
        path: shown.into(),
        errno,
    };
    let names: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let mut cur: Option<OwnedFd> = None;
    let mut created = false;
    for (i, name) in names.iter().enumerate() {
        let at = cur.as_ref().map_or(dir, |fd| fd.as_fd());
        let file = i + 1 == names.len() && last == Create::File;
        // Made first: in box's fresh /dev the entry is missing, one call fewer than a look.
        let perm = Mode::from_bits_truncate(if file { 0o644 } else { 0o755 });
        let made = if file {
            nix::sys::stat::mknodat(at, *name, SFlag::S_IFREG, perm, 0)
        } else {
            nix::sys::stat::mkdirat(at, *name, perm)
        };
        created = match made {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(errno) => return Err(fs(if file { "create file" } else { "mkdir" }, errno)),
        };
        // O_DIRECTORY with O_NOFOLLOW refuses a symlink or a file in one call.
        let dir_flag = if file {
            OFlag::empty()
        } else {
            OFlag::O_DIRECTORY
        };
        let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | dir_flag;
        let fd = match fcntl::openat(at, *name, flags, Mode::empty()) {
            Ok(fd) if !file => fd,
            Ok(fd) if kind(&fd).map_err(|e| fs("stat", e))? != SFlag::S_IFLNK => fd,
            Ok(_) => return Err(symlink(shown)),
            Err(Errno::ENOTDIR)
                if open_at(at, name).ok().map(|fd| kind(&fd)) == Some(Ok(SFlag::S_IFLNK)) =>
            {
                return Err(symlink(shown))
            }
            Err(errno) => return Err(fs("open", errno)),
        };
        cur = Some(fd);
    }
    cur.map(|fd| (fd, created)).ok_or(Error::Invalid {
        path: shown.into(),
        reason: "resolves to the mount below it itself",
    })
}

fn symlink(shown: &Path) -> Error {
    Error::Resolve {
        path: shown.into(),
        reason: "a component is a symlink, which box does not follow here".into(),
    }
}

/// The directory `name` right under `root` (`shown` is how the container
/// will call it): opened without following links and refused unless it is a
/// directory; created (0755) when missing.
pub(crate) fn kernel_dir(root: BorrowedFd<'_>, name: &str, shown: &Path) -> Result<OwnedFd, Error> {
    let fs = |step, errno| Error::Fs {
        step,
        path: shown.into(),
        errno,
    };
    let name = OsStr::new(name);
    let fd = match open_at(root, name) {
        Err(Errno::ENOENT) => {
            match nix::sys::stat::mkdirat(root, name, Mode::from_bits_truncate(0o755)) {
                // Someone else made it meanwhile: it is checked below like any other.
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(errno) => return Err(fs("mkdir", errno)),
            }
            open_at(root, name).map_err(|e| fs("open", e))?
        }
        other => other.map_err(|e| fs("open", e))?,
    };
    let found = match kind(&fd).map_err(|e| fs("stat", e))? {
        SFlag::S_IFDIR => return Ok(fd),
        SFlag::S_IFLNK => match fcntl::readlinkat(&fd, "") {
            Ok(to) => format!("a symlink (to {})", Path::new(&to).display()),
            Err(_) => "a symlink".into(),
        },
        other => describe(other).into(),
    };
    Err(Error::NotADirectory {
        path: shown.into(),
        found,
    })
}

/// The file type bits of what `fd` refers to.
pub(crate) fn kind(fd: impl AsFd) -> nix::Result<SFlag> {
    fstat(fd).map(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT)
}

fn describe(kind: SFlag) -> &'static str {
    match kind {
        SFlag::S_IFREG => "a regular file",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFIFO => "a fifo",
        SFlag::S_IFSOCK => "a socket",
        _ => "not a directory",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    type Opener = fn(BorrowedFd<'_>, &Path) -> nix::Result<OwnedFd>;

    fn tree() -> (tempfile::TempDir, OwnedFd) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/file"), b"x").unwrap();
        symlink("a", d.join("rel")).unwrap();
        symlink("/", d.join("abs")).unwrap();
        symlink("/proc/self/fd/0", d.join("a/magic")).unwrap();
        symlink("file", d.join("a/b/last")).unwrap();
        let fd = crate::sys::open_path("open", d).unwrap();
        (dir, fd)
    }

    /// openat2 and the per-component walk agree on every case.
    #[test]
    fn no_symlink_is_followed() {
        let (dir, root) = tree();
        for open in [open_beneath as Opener, walk as Opener] {
            let fd = open(root.as_fd(), Path::new("a/b/file")).unwrap();
            assert_eq!(kind(&fd).unwrap(), SFlag::S_IFREG);
            assert_eq!(
                kind(open(root.as_fd(), Path::new("a/./b")).unwrap()).unwrap(),
                SFlag::S_IFDIR
            );
            let err = |p: &str| open(root.as_fd(), Path::new(p)).unwrap_err();
            assert_eq!(err("rel/b"), Errno::ELOOP);
            assert_eq!(err("abs/etc"), Errno::ELOOP);
            assert_eq!(err("abs"), Errno::ELOOP);
            assert_eq!(err("a/magic"), Errno::ELOOP);
            assert_eq!(err("a/b/last"), Errno::ELOOP);
            assert_eq!(err("a/b/file/x"), Errno::ENOTDIR);
            assert_eq!(err("a/missing"), Errno::ENOENT);
            assert_eq!(err("a/../../x"), Errno::EXDEV);
        }
        drop(dir);
    }

    #[test]
    fn kernel_dirs_must_be_directories() {
        let (dir, root) = tree();
        let d = dir.path();
        let fd = kernel_dir(root.as_fd(), "proc", Path::new("/proc")).unwrap();
        assert_eq!(kind(&fd).unwrap(), SFlag::S_IFDIR);
        assert!(d.join("proc").is_dir(), "a missing directory is created");
        kernel_dir(root.as_fd(), "a", Path::new("/a")).unwrap();
        let refused = |name: &str| match kernel_dir(root.as_fd(), name, Path::new("/x")) {
            Err(Error::NotADirectory { found, .. }) => found,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(refused("abs"), "a symlink (to /)");
        assert_eq!(refused("rel"), "a symlink (to a)");
        std::fs::write(d.join("file"), b"").unwrap();
        assert_eq!(refused("file"), "a regular file");
        assert!(
            d.join("abs").symlink_metadata().unwrap().is_symlink(),
            "left as it was"
        );
        let msg = kernel_dir(root.as_fd(), "abs", Path::new("/sys"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("/sys") && msg.contains("symlink (to /)"),
            "{msg}"
        );
    }
}
