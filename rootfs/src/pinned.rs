//! The filesystems on the root's own `/proc`, `/sys` and `/dev`.
//!
//! The container's root may be writable by someone else (another container
//! sharing it), who can rename its entries at any moment, e.g. swap `/proc`
//! with another directory (`renameat2(RENAME_EXCHANGE)`). So each of these
//! is mounted on a directory opened without following links, and box keeps a
//! handle on the mount itself ([`Pinned`]): masks and read-only paths are
//! applied through that handle, never by name, and after `pivot_root` the
//! names are checked to still lead to those mounts.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{fstat, SFlag};
use nix::sys::statfs::{fstatfs, FsType, PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC};

use crate::beneath::{kernel_dir, kind};
use crate::sys::{self, fd_path, open_at, HOST_PROC};
use crate::{mountapi, Error};

/// One of the three places, and what belongs there.
pub(crate) struct Spot {
    /// The entry right under the root.
    name: &'static str,
    /// How the container sees it.
    pub path: &'static str,
    /// For messages.
    fs: &'static str,
    magic: FsType,
}

pub(crate) static PROC: Spot = Spot {
    name: "proc",
    path: "/proc",
    fs: "procfs",
    magic: PROC_SUPER_MAGIC,
};
pub(crate) static SYS: Spot = Spot {
    name: "sys",
    path: "/sys",
    fs: "sysfs",
    magic: SYSFS_MAGIC,
};
pub(crate) static DEV: Spot = Spot {
    name: "dev",
    path: "/dev",
    fs: "tmpfs",
    magic: TMPFS_MAGIC,
};

/// A mount box made at a [`Spot`], and a handle on its root.
pub(crate) struct Pinned {
    fd: OwnedFd,
    pub spot: &'static Spot,
}

impl Pinned {
    /// The root of the mount (not the directory under it).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// After `pivot_root`: the spot's name must still lead to this mount,
    /// or the container would start with someone else's directory there
    /// (and this mount, masks and all, under another name).
    /// `root` is the container's `/`.
    pub fn verify(&self, root: BorrowedFd<'_>) -> Result<(), Error> {
        let path = Path::new(self.spot.path);
        match open_at(root, self.spot.name.as_ref()) {
            Ok(now) if same_mount(&now, &self.fd, self.spot.magic) => Ok(()),
            Ok(_) | Err(Errno::ENOENT) => Err(self.spot.replaced()),
            Err(errno) => Err(Error::Fs {
                step: "open",
                path: path.into(),
                errno,
            }),
        }
    }
}

impl Spot {
    fn replaced(&self) -> Error {
        Error::Replaced {
            path: self.path.into(),
            fs: self.fs,
        }
    }
}

/// A fresh procfs: it shows the pid namespace of this process.
pub(crate) fn proc(root: BorrowedFd<'_>) -> Result<Pinned, Error> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    fresh(root, &PROC, "mount proc", "proc", flags, &[])
}

/// A read-only sysfs. Mounting sysfs needs the network namespace to be owned
/// by our user namespace; when it is not (EPERM), bind the host's read-only.
pub(crate) fn sysfs(root: BorrowedFd<'_>) -> Result<Pinned, Error> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    match fresh(root, &SYS, "mount sysfs", "sysfs", flags, &[]) {
        Err(Error::Mount {
            errno: Errno::EPERM,
            ..
        }) => host_sysfs(root),
        other => other,
    }
}

/// The tmpfs `/dev` is built on.
pub(crate) fn dev(root: BorrowedFd<'_>) -> Result<Pinned, Error> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME;
    let options = [("mode", "755"), ("size", "65536k")];
    fresh(root, &DEV, "mount tmpfs", "tmpfs", flags, &options)
}

/// Mounts a new `fstype` on the spot's directory.
fn fresh(
    root: BorrowedFd<'_>,
    spot: &'static Spot,
    step: &'static str,
    fstype: &str,
    flags: MsFlags,
    options: &[(&str, &str)],
) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    let dir = kernel_dir(root, spot.name, shown)?;
    let failed = |(_, errno): mountapi::Failed| Error::Mount {
        step,
        src: Some(fstype.into()),
        target: shown.into(),
        errno,
    };
    match mountapi::fresh(fstype, options, flags) {
        Ok(mnt) => {
            mountapi::attach(mnt.as_fd(), dir.as_fd()).map_err(failed)?;
            Ok(Pinned { fd: mnt, spot })
        }
        Err(f) if mountapi::unsupported(&f) => {
            let data = mountapi::data(options);
            let target = fd_path(dir.as_fd());
            sys::mount_fs(step, fstype, &target, shown, flags, data.as_deref())?;
            reopen(root, spot, &dir)
        }
        Err(f) => Err(failed(f)),
    }
}

/// The host's `/sys`, recursively and read-only.
fn host_sysfs(root: BorrowedFd<'_>) -> Result<Pinned, Error> {
    let shown = Path::new(SYS.path);
    let dir = kernel_dir(root, SYS.name, shown)?;
    let host = Path::new("/oldroot/sys");
    let src = sys::open_path("open host sysfs", host)?;
    let pinned = match mountapi::clone_tree(src.as_fd(), true) {
        Ok(tree) => {
            mountapi::attach(tree.as_fd(), dir.as_fd()).map_err(|(_, errno)| Error::Mount {
                step: "bind host sysfs",
                src: Some(host.into()),
                target: shown.into(),
                errno,
            })?;
            Pinned {
                fd: tree,
                spot: &SYS,
            }
        }
        Err(f) if mountapi::unsupported(&f) => {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            let (src, target) = (fd_path(src.as_fd()), fd_path(dir.as_fd()));
            sys::mount(
                "bind host sysfs",
                Some(&src),
                &target,
                shown,
                None,
                flags,
                None,
            )?;
            reopen(root, &SYS, &dir)?
        }
        Err((_, errno)) => {
            return Err(Error::Mount {
                step: "bind host sysfs",
                src: Some(host.into()),
                target: shown.into(),
                errno,
            })
        }
    };
    sys::make_readonly(pinned.fd(), shown, true, HOST_PROC)?;
    Ok(pinned)
}

/// After a classic `mount(2)` on `under`, which gives no handle on the new
/// mount: open the name again and accept it only if it leads to a mount of
/// the expected kind on top of another filesystem (a swapped-in directory of
/// the root is refused, not used).
fn reopen(root: BorrowedFd<'_>, spot: &'static Spot, under: &OwnedFd) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    let fd = open_at(root, spot.name.as_ref()).map_err(|errno| Error::Fs {
        step: "reopen mount point",
        path: shown.into(),
        errno,
    })?;
    let on_top = match (fstat(&fd), fstat(under)) {
        (Ok(top), Ok(below)) => top.st_dev != below.st_dev,
        _ => false,
    };
    if on_top && kind(&fd) == Ok(SFlag::S_IFDIR) && magic(&fd) == Some(spot.magic) {
        Ok(Pinned { fd, spot })
    } else {
        Err(spot.replaced())
    }
}

/// Whether `a` is the root of the same mount as `b`, a directory of the
/// filesystem type `magic`. Each procfs, sysfs and tmpfs instance has a
/// device number of its own, and box mounts the root of each only once.
fn same_mount(a: &OwnedFd, b: &OwnedFd, magic_b: FsType) -> bool {
    let same_inode = match (fstat(a), fstat(b)) {
        (Ok(x), Ok(y)) => (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino),
        _ => false,
    };
    same_inode && kind(a) == Ok(SFlag::S_IFDIR) && magic(a) == Some(magic_b)
}

fn magic(fd: &OwnedFd) -> Option<FsType> {
    fstatfs(fd).ok().map(|s| s.filesystem_type())
}

#[cfg(test)]
mod tests;
