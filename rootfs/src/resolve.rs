//! Resolving container paths under the new root without ever leaving it.
//!
//! The container's root tree is not trusted: it may contain `etc -> /` or
//! `x -> ../../..`. Each component is opened with `O_PATH|O_NOFOLLOW` relative
//! to the directory reached so far; symlinks are read and replayed as if the
//! new root were `/` (absolute links restart at the root, `..` never climbs
//! above it), like `openat2(RESOLVE_IN_ROOT)`. The kernel is then handed the
//! resulting fd (via `/proc/self/fd/N`), never the path.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};

use crate::sys::{mkdir_at, open_at, touch_at};
use crate::Error;

/// Same limit as the kernel's (MAXSYMLINKS).
const MAX_SYMLINKS: usize = 40;

/// What to create when the last component is missing. Missing intermediate
/// components are created as directories, except with `Nothing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    Nothing,
    Dir,
    File,
}

/// A resolved path: an `O_PATH` handle plus the directory and name it was
/// found under, to reopen it once something is mounted on it.
#[derive(Debug)]
pub(crate) struct Target {
    pub fd: OwnedFd,
    parent: OwnedFd,
    name: OsString,
    /// The path as configured, for messages.
    pub shown: PathBuf,
}

impl Target {
    /// A fresh handle on the same name: after a mount it refers to the root
    /// of the new mount (the old handle still points underneath it).
    pub fn reopen(&self) -> Result<OwnedFd, Error> {
        open_at(self.parent.as_fd(), &self.name).map_err(|errno| Error::Fs {
            step: "reopen mount point",
            path: self.shown.clone(),
            errno,
        })
    }
}

/// Resolves `path` (absolute, inside the container) under `root`.
pub(crate) fn resolve(root: BorrowedFd<'_>, path: &Path, create: Create) -> Result<Target, Error> {
    walk(root, path, create)?.ok_or_else(|| Error::Invalid {
        path: path.into(),
        reason: "resolves to the root itself",
    })
}

/// [`resolve`], with `None` when the path leads back to `root` itself (`/`, `a/..`, a link
/// to `/`).
pub(crate) fn walk(
    root: BorrowedFd<'_>,
    path: &Path,
    create: Create,
) -> Result<Option<Target>, Error> {
    let fs_err = |step, errno| Error::Fs {
        step,
        path: path.into(),
        errno,
    };
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_front(&mut pending, path);
    // Directories walked so far; empty means "at the root".
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            stack.pop();
            continue;
        }
        let last = pending.is_empty();
        let dir = stack.last().map_or(root, |fd| fd.as_fd());
        let fd = match open_at(dir, &name) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create != Create::Nothing => {
                if !last || create == Create::Dir {
                    mkdir_at(dir, &name, 0o755, path)?;
                } else {
                    touch_at(dir, &name, 0o644, path)?;
                }
                open_at(dir, &name).map_err(|e| fs_err("open", e))?
            }
            Err(errno) => return Err(fs_err("open", errno)),
        };
        let st = fstat(&fd).map_err(|e| fs_err("stat", e))?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFLNK {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Error::Resolve {
                    path: path.into(),
                    reason: "too many levels of symbolic links".into(),
                });
            }
            let link = nix::fcntl::readlinkat(&fd, "").map_err(|e| fs_err("readlink", e))?;
            let link = PathBuf::from(link);
            if link.is_absolute() {
                stack.clear();
            }
            push_front(&mut pending, &link);
            continue;
        }
        if last {
            let parent = match stack.pop() {
                Some(fd) => fd,
                None => root
                    .try_clone_to_owned()
                    .map_err(|e| fs_err("dup", io_errno(&e)))?,
            };
            return Ok(Some(Target {
                fd,
                parent,
                name,
                shown: path.into(),
            }));
        }
        if kind != SFlag::S_IFDIR {
            return Err(fs_err("open", Errno::ENOTDIR));
        }
        stack.push(fd);
    }
    Ok(None)
}

/// Queues the components of `p` before what is already pending.
fn push_front(pending: &mut VecDeque<OsString>, p: &Path) {
    for c in p.components().rev() {
        match c {
            Component::Normal(n) => pending.push_front(n.into()),
            Component::ParentDir => pending.push_front("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, OwnedFd) {
        let dir = tempfile::tempdir().unwrap();
        let fd = crate::sys::open_path("open", dir.path()).unwrap();
        (dir, fd)
    }

    fn shown_under(dir: &Path, t: &Target) -> PathBuf {
        let real = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&t.fd)
        ))
        .unwrap();
        real.strip_prefix(dir).unwrap().to_path_buf()
    }

    #[test]
    fn creates_missing_components() {
        let (dir, root) = tree();
        let t = resolve(root.as_fd(), Path::new("/a/b/c"), Create::File).unwrap();
        assert!(dir.path().join("a/b").is_dir());
        assert!(dir.path().join("a/b/c").is_file());
        assert_eq!(shown_under(dir.path(), &t), Path::new("a/b/c"));
        resolve(root.as_fd(), Path::new("/a/d"), Create::Dir).unwrap();
        assert!(dir.path().join("a/d").is_dir());
        let err = resolve(root.as_fd(), Path::new("/missing"), Create::Nothing).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOENT));
        let err = resolve(root.as_fd(), Path::new("/gone/x"), Create::Nothing).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOENT));
        assert!(!dir.path().join("gone").exists(), "Nothing creates nothing");
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let (dir, root) = tree();
        let d = dir.path();
        std::fs::create_dir(d.join("etc")).unwrap();
        symlink("/", d.join("evil")).unwrap();
        symlink("../../../..", d.join("etc/up")).unwrap();
        symlink("/etc", d.join("abs")).unwrap();
        symlink("loop", d.join("loop")).unwrap();
        let t = resolve(root.as_fd(), Path::new("/evil/x"), Create::Dir).unwrap();
        assert_eq!(shown_under(d, &t), Path::new("x"));
        let t = resolve(root.as_fd(), Path::new("/etc/up/y"), Create::File).unwrap();
        assert_eq!(shown_under(d, &t), Path::new("y"));
        let t = resolve(root.as_fd(), Path::new("/abs/z"), Create::Dir).unwrap();
        assert_eq!(shown_under(d, &t), Path::new("etc/z"));
        let err = resolve(root.as_fd(), Path::new("/loop/a"), Create::Dir).unwrap_err();
        assert!(matches!(err, Error::Resolve { .. }), "{err}");
        let err = resolve(root.as_fd(), Path::new("/etc/z/../../.."), Create::Nothing).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
    }

    #[test]
    fn file_in_the_middle_is_an_error() {
        let (dir, root) = tree();
        std::fs::write(dir.path().join("f"), b"").unwrap();
        let err = resolve(root.as_fd(), Path::new("/f/x"), Create::Dir).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOTDIR));
    }
}
