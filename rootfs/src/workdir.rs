//! The process's working directory, resolved inside its root.
//!
//! The workdir comes from box.toml, `box exec -w`, or the container's own record of it, and
//! the container's tree may have replaced any component with a symlink, a magic one such as
//! `/proc/self/fd/3` included, which the kernel would follow to whatever that fd is (runc's
//! CVE-2024-21626). So it is resolved like a mount target: one component at a time under `/`,
//! symlinks replayed inside the root and never followed by the kernel. The process then
//! `fchdir`s to the resulting fd, and `getcwd` must name a path inside its root.
//!
//! A new container's missing workdir is made by [`setup_with_workdir`](crate::setup_with_workdir)
//! ([`create`]), before `/` may become read-only, as runc and Docker make it while the root is
//! still writable: the same walk, missing components made 0755 and owned by the caller (the
//! container's root), as Docker owns them.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};

use crate::resolve::{walk, Create};
use crate::sys::open_path;
use crate::Error;

/// A working directory found inside the calling process's root, not yet entered.
#[derive(Debug)]
pub struct Workdir {
    fd: OwnedFd,
    shown: PathBuf,
}

impl Workdir {
    /// Resolves `path` under the calling process's root (`/`: call it after `pivot_root`, or
    /// after joining the container's mount namespace). With `create`, missing directories are
    /// made (mode 0755 less the umask), as Docker does for a new container; without it a
    /// missing one is `ENOENT`, as `docker exec -w` fails.
    pub fn open(path: &Path, create: bool) -> Result<Workdir, Error> {
        // "/" is the process's root itself: there is no symlink to follow in it.
        let root = open_path("open the root for the workdir", Path::new("/"))?;
        Workdir::open_under(root, path, create)
    }

    fn open_under(root: OwnedFd, path: &Path, create: bool) -> Result<Workdir, Error> {
        let create = if create { Create::Dir } else { Create::Nothing };
        let fd = find(root.as_fd(), path, create)?.unwrap_or(root);
        Ok(Workdir {
            fd,
            shown: path.into(),
        })
    }

    /// Makes it the working directory (as whoever the process is now: the user's permissions
    /// apply) and checks that `getcwd` names a path inside the root, as runc's fix does: a
    /// directory outside it reads as `(unreachable)/...`, which libc reports as `ENOENT`.
    pub fn enter(self) -> Result<(), Error> {
        let fs_err = |step, errno| Error::Fs {
            step,
            path: self.shown.clone(),
            errno,
        };
        nix::unistd::fchdir(self.fd.as_fd()).map_err(|e| fs_err("chdir to workdir", e))?;
        match nix::unistd::getcwd() {
            Ok(cwd) if cwd.is_absolute() => Ok(()),
            Ok(_) | Err(Errno::ENOENT) => Err(Error::Resolve {
                path: self.shown.clone(),
                reason: "the working directory is outside the root".into(),
            }),
            Err(errno) => Err(fs_err("getcwd in workdir", errno)),
        }
    }
}

/// Makes the directories of `path` that `root` lacks (see the module's doc).
pub(crate) fn create(root: BorrowedFd<'_>, path: &Path) -> Result<(), Error> {
    find(root, path, Create::Dir).map(drop)
}

/// `path` under `root` as a directory; `None` when it is `root` itself.
fn find(root: BorrowedFd<'_>, path: &Path, create: Create) -> Result<Option<OwnedFd>, Error> {
    let fs_err = |step, errno| Error::Fs {
        step,
        path: path.into(),
        errno,
    };
    let Some(target) = walk(root, path, create)? else {
        return Ok(None);
    };
    let st = fstat(&target.fd).map_err(|e| fs_err("stat workdir", e))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFDIR {
        return Err(fs_err("open workdir", Errno::ENOTDIR));
    }
    Ok(Some(target.fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::symlink;

    fn under(dir: &Path, path: &str, create: bool) -> Result<PathBuf, Error> {
        let root = open_path("open", dir).unwrap();
        let wd = Workdir::open_under(root, Path::new(path), create)?;
        Ok(std::fs::read_link(format!("/proc/self/fd/{}", wd.fd.as_raw_fd())).unwrap())
    }

    #[test]
    fn magic_links_are_replayed_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // An fd of this process on a directory outside the root, as box's cgroup fds were.
        let outside = tempfile::tempdir().unwrap();
        let leaked = open_path("open", outside.path()).unwrap();
        let link = format!("/proc/self/fd/{}", leaked.as_raw_fd());
        symlink(&link, d.join("app")).unwrap();
        let err = under(d, "/app", false).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
        let real = under(d, "/app", true).unwrap();
        assert_eq!(real, d.join(link.trim_start_matches('/')));
        symlink("/", d.join("up")).unwrap();
        assert_eq!(under(d, "/up/../..", false).unwrap(), d);
    }

    #[test]
    fn files_and_missing_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("file"), "").unwrap();
        let err = under(d, "/file", true).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOTDIR), "{err}");
        let err = under(d, "/a/b", false).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
        assert!(!d.join("a").exists());
        assert_eq!(under(d, "/a/b", true).unwrap(), d.join("a/b"));
        assert_eq!(under(d, "/", false).unwrap(), d);
    }
}
