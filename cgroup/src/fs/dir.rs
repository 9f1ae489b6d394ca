//! The root of a hierarchy, held open (and, when it comes from mountinfo, checked to be the
//! cgroup filesystem mountinfo named), and the directories below it that every control-file
//! access goes through.

use std::ffi::OsStr;
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fstat, major, minor, Mode};
use nix::sys::statfs::{fstatfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};
use serde::{Deserialize, Serialize};

use super::resolve::open_beneath;
use crate::error::Error;

/// Which cgroup filesystem a mount point must hold, and which superblock: what mountinfo
/// said about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Expected {
    /// cgroup2 (`CGROUP2_SUPER_MAGIC`) rather than a v1 hierarchy (`CGROUP_SUPER_MAGIC`).
    pub v2: bool,
    /// `major:minor` of the mount (mountinfo's third field), i.e. the hierarchy: every v1
    /// hierarchy has the same magic, only the device tells them apart.
    pub dev: (u64, u64),
}

/// `/`, as the base the roots of a layout read from mountinfo are opened beneath.
pub(crate) fn open_slash() -> Result<OwnedFd, Errno> {
    open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// A hierarchy's root directory, open for the life of the handles that use it.
#[derive(Debug)]
pub(crate) struct Root {
    path: PathBuf,
    /// `O_PATH | O_DIRECTORY`: only ever a base for `openat2`/`mkdirat`/`unlinkat`.
    fd: OwnedFd,
}

impl Root {
    /// Open a mount point read from mountinfo beneath `slash` (`/`, [`open_slash`]) and check
    /// it: no symlink on the way (mountinfo names canonical paths), the filesystem magic of
    /// `expected`'s version, and its device.
    pub(crate) fn open_verified_in(
        slash: BorrowedFd<'_>,
        path: &Path,
        expected: Expected,
    ) -> Result<Root, Error> {
        let err = |errno| Error::OpenRoot {
            path: path.to_path_buf(),
            errno,
        };
        let rel = path.strip_prefix("/").map_err(|_| err(Errno::EINVAL))?;
        let fd = open_beneath(slash, rel, OFlag::O_PATH | OFlag::O_DIRECTORY).map_err(err)?;
        let found = fstatfs(&fd).map_err(err)?.filesystem_type();
        let magic = match expected.v2 {
            true => CGROUP2_SUPER_MAGIC,
            false => CGROUP_SUPER_MAGIC,
        };
        let not = |reason: String| Error::NotCgroupfs {
            path: path.to_path_buf(),
            reason,
        };
        if found != magic {
            let want = if expected.v2 {
                "cgroup2"
            } else {
                "cgroup (v1)"
            };
            let got = found.0;
            return Err(not(format!("not a {want} filesystem (f_type {got:#x})")));
        }
        let st = fstat(&fd).map_err(err)?;
        let dev = (major(st.st_dev), minor(st.st_dev));
        if dev != expected.dev {
            let (a, b) = expected.dev;
            let (c, d) = dev;
            return Err(not(format!(
                "device {c}:{d}, not the mount {a}:{b} that mountinfo lists there"
            )));
        }
        Ok(Root {
            path: path.to_path_buf(),
            fd,
        })
    }

    /// Open a directory that the caller gave as a hierarchy root (a prepared tree): the
    /// caller vouches for it, so neither its filesystem nor symlinks on the way to it are
    /// checked. Below it, the same rules as everywhere hold.
    pub(crate) fn open_given(path: &Path) -> Result<Root, Error> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = open(path, flags, Mode::empty()).map_err(|errno| Error::OpenRoot {
            path: path.to_path_buf(),
            errno,
        })?;
        Ok(Root {
            path: path.to_path_buf(),
            fd,
        })
    }
}

/// A directory of a hierarchy: its root and the plain names below it. Every read, write,
/// mkdir and rmdir in this crate goes through one, so none of them follows a symlink or
/// leaves the hierarchy.
#[derive(Clone)]
pub(crate) struct Dir {
    root: Arc<Root>,
    /// `root.path` joined with plain names only (`join` sees to it).
    path: PathBuf,
}

impl fmt::Debug for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dir").field(&self.path).finish()
    }
}

impl Dir {
    /// The root directory of the hierarchy.
    pub(crate) fn root(root: &Arc<Root>) -> Dir {
        Dir {
            root: root.clone(),
            path: root.path.clone(),
        }
    }

    /// The directory `rel` below this one; `rel` must be plain names (no `.`, `..` or `/`).
    pub(crate) fn join(&self, rel: impl AsRef<Path>) -> Result<Dir, Error> {
        let rel = rel.as_ref();
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain || rel.as_os_str().is_empty() {
            return Err(Error::InvalidPath {
                path: rel.to_path_buf(),
                reason: "only plain names allowed, no '.' or '..'",
            });
        }
        Ok(Dir {
            root: self.root.clone(),
            path: self.path.join(rel),
        })
    }

    /// The directory above, `None` at the hierarchy's root.
    pub(crate) fn parent(&self) -> Option<Dir> {
        match self.is_root() {
            true => None,
            false => Some(Dir {
                root: self.root.clone(),
                path: self.path.parent()?.to_path_buf(),
            }),
        }
    }

    /// The last name, `None` at the hierarchy's root.
    pub(crate) fn name(&self) -> Option<&OsStr> {
        match self.is_root() {
            true => None,
            false => self.path.file_name(),
        }
    }

    pub(crate) fn is_root(&self) -> bool {
        self.path == self.root.path
    }

    /// The mount point of its hierarchy.
    pub(crate) fn mount_point(&self) -> &Path {
        &self.root.path
    }

    /// The absolute path (what the layout calls the mount point, joined with the names).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn display(&self) -> std::path::Display<'_> {
        self.path.display()
    }

    /// Open `file` in this directory (or the directory itself when `file` is empty).
    pub(crate) fn open(&self, file: &str, flags: OFlag) -> Result<OwnedFd, Errno> {
        // Cannot fail (the path was built from the root's), but must not open the root if it did.
        let rel = self
            .path
            .strip_prefix(&self.root.path)
            .map_err(|_| Errno::EXDEV)?;
        let base = self.root.fd.as_fd();
        match file {
            "" => open_beneath(base, rel, flags),
            _ => open_beneath(base, &rel.join(file), flags),
        }
    }
}
