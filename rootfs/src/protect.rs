//! Masked and read-only paths, applied before `pivot_root` and by handle:
//! a path under `/proc`, `/sys` or `/dev` is opened beneath each [`Pinned`]
//! mount there without following any symlink (the one the container sees
//! and any it covers, which a rename could bring back into view); any other
//! path, or one under a place box mounted nothing at, is resolved inside the
//! root ([`resolve`]). The mount then goes onto that handle, so
//! renaming entries of the root cannot move it. A path that does not exist
//! is skipped (in a fresh procfs or sysfs: this kernel lacks the file); any
//! other failure fails the start.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{fstat, major, minor, SFlag};

use crate::beneath::{kind, open_beneath};
use crate::pinned::{same_inode, Pinned, DEV};
use crate::resolve::{resolve, Create, Target};
use crate::sys::{self, fd_path, open_at, HOST_PROC};
use crate::{mountapi, Error};

/// Masks `masked` (an empty read-only tmpfs over a directory, `/dev/null`
/// over anything else), then binds each of `readonly` onto itself read-only.
pub(crate) fn apply(
    root: BorrowedFd<'_>,
    pinned: &[Pinned],
    masked: &[PathBuf],
    readonly: &[PathBuf],
) -> Result<(), Error> {
    let mut null = None;
    for p in masked {
        for found in locate(root, pinned, p)? {
            mask(&found, p, pinned, &mut null)?;
        }
    }
    for p in readonly {
        for found in locate(root, pinned, p)? {
            bind_readonly(&found, p)?;
        }
    }
    Ok(())
}

/// Where a configured path is, as a handle.
enum Found<'a> {
    /// The root of a pinned mount itself (`/proc`, `/sys`, `/dev`).
    MountRoot(&'a Pinned),
    /// A path beneath a pinned mount.
    Beneath {
        fd: OwnedFd,
        under: BorrowedFd<'a>,
        rel: PathBuf,
    },
    /// Anywhere else in the root.
    Tree(Target),
}

impl Found<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Found::MountRoot(p) => p.fd(),
            Found::Beneath { fd, .. } => fd.as_fd(),
            Found::Tree(t) => t.fd.as_fd(),
        }
    }

    /// The same path opened again: after a mount on it, the mount's root.
    fn reopen(&self, shown: &Path) -> Result<OwnedFd, Error> {
        match self {
            Found::MountRoot(p) => p.fd().try_clone_to_owned().map_err(|e| Error::Fs {
                step: "dup",
                path: shown.into(),
                errno: e.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
            }),
            Found::Beneath { under, rel, .. } => opened(open_beneath(*under, rel), shown),
            Found::Tree(t) => t.reopen(),
        }
    }
}

/// Every place the path is; none when it does not exist.
fn locate<'a>(
    root: BorrowedFd<'_>,
    pinned: &'a [Pinned],
    p: &Path,
) -> Result<Vec<Found<'a>>, Error> {
    let mut found = Vec::new();
    let mut under_a_pin = false;
    for pin in pinned {
        let Ok(rel) = p.strip_prefix(pin.spot.path) else {
            continue;
        };
        under_a_pin = true;
        if rel.as_os_str().is_empty() {
            found.push(Found::MountRoot(pin));
            continue;
        }
        match open_beneath(pin.fd(), rel) {
            Ok(fd) => found.push(Found::Beneath {
                fd,
                under: pin.fd(),
                rel: rel.into(),
            }),
            Err(Errno::ENOENT) => {}
            Err(errno) => return Err(open_error(errno, p)),
        }
    }
    if under_a_pin {
        return Ok(found);
    }
    match resolve(root, p, Create::Nothing) {
        Ok(t) => Ok(vec![Found::Tree(t)]),
        Err(e) if matches!(e.errno(), Some(Errno::ENOENT | Errno::ENOTDIR)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The result of [`open_beneath`] with a clear error.
fn opened(res: nix::Result<OwnedFd>, shown: &Path) -> Result<OwnedFd, Error> {
    res.map_err(|errno| open_error(errno, shown))
}

fn open_error(errno: Errno, shown: &Path) -> Error {
    match errno {
        Errno::ELOOP => Error::Resolve {
            path: shown.into(),
            reason: "a component is a symlink, which box does not follow here".into(),
        },
        errno => Error::Fs {
            step: "open",
            path: shown.into(),
            errno,
        },
    }
}

fn mask(
    found: &Found<'_>,
    p: &Path,
    pinned: &[Pinned],
    null: &mut Option<OwnedFd>,
) -> Result<(), Error> {
    if let Found::MountRoot(_) = found {
        return Err(Error::Invalid {
            path: p.into(),
            reason: "cannot mask all of /proc, /sys or /dev: mount a tmpfs there instead",
        });
    }
    let target = fd_path(found.fd());
    if kind(found.fd()).map_err(|e| fs_err(p, e))? == SFlag::S_IFDIR {
        let flags =
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        return sys::mount_fs("mask directory", "tmpfs", &target, p, flags, None);
    }
    let null = match null {
        Some(fd) => fd,
        None => null.insert(dev_null(pinned)?),
    };
    let src = fd_path(null.as_fd());
    sys::mount(
        "mask file",
        Some(&src),
        &target,
        p,
        None,
        MsFlags::MS_BIND,
        None,
    )
}

fn fs_err(p: &Path, errno: Errno) -> Error {
    Error::Fs {
        step: "stat",
        path: p.into(),
        errno,
    }
}

/// The container's `/dev/null`, from the first `/dev` box mounted (the one it
/// filled), checked to be the null device (1:3): whatever is bound over a
/// masked file is readable and writable by the container.
fn dev_null(pinned: &[Pinned]) -> Result<OwnedFd, Error> {
    let shown = Path::new("/dev/null");
    let dev = pinned
        .iter()
        .find(|p| p.spot == &DEV)
        .ok_or(Error::Invalid {
            path: shown.into(),
            reason: "no /dev was mounted to take /dev/null from",
        })?;
    let fd = open_at(dev.fd(), "null".as_ref()).map_err(|errno| Error::Fs {
        step: "open",
        path: shown.into(),
        errno,
    })?;
    let st = fstat(&fd).map_err(|e| fs_err(shown, e))?;
    let is_chr = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
    if is_chr && (major(st.st_rdev), minor(st.st_rdev)) == (1, 3) {
        Ok(fd)
    } else {
        Err(Error::Resolve {
            path: shown.into(),
            reason: "is not the null device (1:3)".into(),
        })
    }
}

/// A recursive bind of the path onto itself, made read-only.
fn bind_readonly(found: &Found<'_>, p: &Path) -> Result<(), Error> {
    let fd = found.fd();
    if let Found::MountRoot(pin) = found {
        return sys::make_readonly(pin.fd(), p, true, HOST_PROC);
    }
    let failed = |(_, errno): mountapi::Failed| Error::Mount {
        step: "bind read-only path",
        src: Some(p.into()),
        target: p.into(),
        errno,
    };
    match mountapi::clone_tree(fd, true) {
        Ok(tree) => {
            mountapi::attach(tree.as_fd(), fd).map_err(failed)?;
            sys::make_readonly(tree.as_fd(), p, true, HOST_PROC)
        }
        Err(f) if mountapi::unsupported(&f) => {
            let path = fd_path(fd);
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            sys::mount(
                "bind read-only path",
                Some(&path),
                &path,
                p,
                None,
                flags,
                None,
            )?;
            // The name may lead elsewhere by now: only the same inode will
            // do, and if it is not a mount root, make_readonly fails (EINVAL)
            // rather than protect the wrong mount.
            let top = found.reopen(p)?;
            if !same_inode(fd, top.as_fd()) {
                return Err(Error::Resolve {
                    path: p.into(),
                    reason: "changed while it was being made read-only".into(),
                });
            }
            sys::make_readonly(top.as_fd(), p, true, HOST_PROC)
        }
        Err(f) => Err(failed(f)),
    }
}

#[cfg(test)]
mod tests;
