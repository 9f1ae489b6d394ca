//! The mounts at the root's own `/proc`, `/sys` and `/dev`.
//!
//! The container's root may be writable by someone else (another container
//! sharing it), who can rename its entries at any moment, e.g. swap `/proc`
//! with another directory (`renameat2(RENAME_EXCHANGE)`). So a mount there
//! goes on a directory opened without following links, and box keeps a
//! handle on the mount itself ([`Pinned`]): later mounts below it, masks and
//! read-only paths go through that handle, never by name, and after
//! `pivot_root` the names are checked to still lead to those mounts.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{fstat, SFlag};
use nix::sys::statfs::{fstatfs, FsType};

use crate::beneath::{kernel_dir, kind};
use crate::sys::{self, fd_path, open_at, HOST_PROC};
use crate::{attrs, mountapi, Error, Mount, MountType};

/// One of the three places whose mounts are pinned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Spot {
    /// The entry right under the root.
    name: &'static str,
    /// How the container sees it.
    pub path: &'static str,
}

pub(crate) static PROC: Spot = Spot {
    name: "proc",
    path: "/proc",
};
pub(crate) static SYS: Spot = Spot {
    name: "sys",
    path: "/sys",
};
pub(crate) static DEV: Spot = Spot {
    name: "dev",
    path: "/dev",
};
pub(crate) static SPOTS: [&Spot; 3] = [&PROC, &SYS, &DEV];

/// The spot a mount's destination is, if any.
pub(crate) fn spot_at(destination: &Path) -> Option<&'static Spot> {
    SPOTS.into_iter().find(|s| Path::new(s.path) == destination)
}

/// A mount box made at a [`Spot`], and a handle on its root.
pub(crate) struct Pinned {
    fd: OwnedFd,
    pub spot: &'static Spot,
    /// What it is, for messages: "procfs", "tmpfs", "bind mount".
    fs: &'static str,
    magic: FsType,
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
            Ok(now) if same_mount(&now, &self.fd, self.magic) => Ok(()),
            Ok(_) | Err(Errno::ENOENT) => Err(self.spot.replaced(self.fs)),
            Err(errno) => Err(Error::Fs {
                step: "open",
                path: path.into(),
                errno,
            }),
        }
    }
}

impl Spot {
    fn replaced(&self, fs: &'static str) -> Error {
        Error::Replaced {
            path: self.path.into(),
            fs,
        }
    }
}

/// What a mount of `kind` is called in messages, and the filesystem a fresh one has.
pub(crate) fn describe(kind: MountType) -> (&'static str, Option<FsType>) {
    use nix::sys::statfs::{DEVPTS_SUPER_MAGIC, PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC};
    // <linux/magic.h>; neither nix nor libc names it.
    const MQUEUE_MAGIC: FsType = FsType(0x1980_0202);
    match kind {
        MountType::Bind => ("bind mount", None),
        MountType::Proc => ("procfs", Some(PROC_SUPER_MAGIC)),
        MountType::Sysfs => ("sysfs", Some(SYSFS_MAGIC)),
        MountType::Tmpfs => ("tmpfs", Some(TMPFS_MAGIC)),
        MountType::Devpts => ("devpts", Some(DEVPTS_SUPER_MAGIC)),
        MountType::Mqueue => ("mqueue", Some(MQUEUE_MAGIC)),
        MountType::Cgroup2 => ("cgroup2", Some(nix::sys::statfs::CGROUP2_SUPER_MAGIC)),
        // Checked as a bind is: by its mount, not by a magic number box would have to know.
        MountType::Other(_) => ("filesystem", None),
    }
}

/// Makes `m` at `spot`, on a real directory of `root`, with the new mount API where the
/// kernel has it; `src` is the opened source of a bind. A sysfs the kernel refuses (EPERM:
/// the network namespace is not ours) becomes the host's, read-only.
pub(crate) fn at_spot(
    root: BorrowedFd<'_>,
    spot: &'static Spot,
    m: &Mount,
    src: Option<&OwnedFd>,
) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    let dir = kernel_dir(root, spot.name, shown)?;
    let pin = match m.kind {
        MountType::Bind => {
            let src = src.ok_or_else(|| attrs::unopened(m))?;
            let pin = bind(root, spot, &dir, m, src)?;
            attrs::bind(pin.fd(), shown, &m.options)?;
            pin
        }
        MountType::Other(_) if src.is_some() => {
            let mnt = src.ok_or_else(|| attrs::unopened(m))?;
            attrs::attach(m, mnt.as_fd(), dir.as_fd())?;
            let fd = mnt.try_clone().map_err(|e| Error::Fs {
                step: "dup mount fd",
                path: shown.into(),
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EMFILE)),
            })?;
            pin(fd, spot, "filesystem", None)?
        }
        _ => match attrs::with_gid_fallback(m, |data| fresh(root, spot, &dir, m, data)) {
            Err(Error::Mount {
                errno: Errno::EPERM,
                ..
            }) if m.kind == MountType::Sysfs => host_sysfs(root, &dir)?,
            other => other?,
        },
    };
    attrs::propagation(pin.fd(), shown, &m.options)?;
    Ok(pin)
}

/// A new filesystem of `m`'s type with the filesystem options `data`.
fn fresh(
    root: BorrowedFd<'_>,
    spot: &'static Spot,
    dir: &OwnedFd,
    m: &Mount,
    data: &[String],
) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    let fstype = m.kind.name();
    let flags = m.options.fresh_ms();
    let failed = |(_, errno): mountapi::Failed| attrs::mount_error(m, shown, errno);
    let (fs, magic) = describe(m.kind);
    match mountapi::fresh(fstype, m.source.as_deref(), data, flags) {
        Ok(mnt) => {
            mountapi::attach(mnt.as_fd(), dir.as_fd()).map_err(failed)?;
            pin(mnt, spot, fs, magic)
        }
        Err(f) if mountapi::unsupported(&f) => {
            attrs::mount_fresh(m, &fd_path(dir.as_fd()), shown, data)?;
            reopen(root, spot, dir, Expect::Fs(fs, magic))
        }
        Err(f) => Err(failed(f)),
    }
}

/// A bind of `src` (recursive with `rbind`).
fn bind(
    root: BorrowedFd<'_>,
    spot: &'static Spot,
    dir: &OwnedFd,
    m: &Mount,
    src: &OwnedFd,
) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    match mountapi::clone_tree(src.as_fd(), m.options.recursive) {
        Ok(tree) => {
            mountapi::attach(tree.as_fd(), dir.as_fd())
                .map_err(|(_, errno)| attrs::mount_error(m, shown, errno))?;
            pin(tree, spot, "bind mount", None)
        }
        Err(f) if mountapi::unsupported(&f) => {
            attrs::mount_bind(m, src.as_fd(), &fd_path(dir.as_fd()), shown)?;
            reopen(root, spot, dir, Expect::SameAs(src.as_fd()))
        }
        Err((_, errno)) => Err(attrs::mount_error(m, shown, errno)),
    }
}

/// `fd` of a mount at `spot`, of the filesystem type `magic` (`None`: as the kernel says).
fn pin(
    fd: OwnedFd,
    spot: &'static Spot,
    fs: &'static str,
    magic: Option<FsType>,
) -> Result<Pinned, Error> {
    let magic = match magic {
        Some(magic) => magic,
        None => fstatfs(&fd)
            .map_err(|errno| Error::Fs {
                step: "statfs",
                path: spot.path.into(),
                errno,
            })?
            .filesystem_type(),
    };
    Ok(Pinned {
        magic,
        fd,
        spot,
        fs,
    })
}

/// The host's `/sys`, recursively and read-only, on `dir` (the root's `sys`).
fn host_sysfs(root: BorrowedFd<'_>, dir: &OwnedFd) -> Result<Pinned, Error> {
    let shown = Path::new(SYS.path);
    let host = Path::new("/oldroot/sys");
    let src = sys::open_path("open host sysfs", host)?;
    let failed = |errno| Error::Mount {
        step: "bind host sysfs",
        src: Some(host.into()),
        target: shown.into(),
        errno,
    };
    let pinned = match mountapi::clone_tree(src.as_fd(), true) {
        Ok(tree) => {
            mountapi::attach(tree.as_fd(), dir.as_fd()).map_err(|(_, e)| failed(e))?;
            pin(tree, &SYS, "sysfs", None)?
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
            let magic = describe(MountType::Sysfs).1;
            reopen(root, &SYS, dir, Expect::Fs("sysfs", magic))?
        }
        Err((_, errno)) => return Err(failed(errno)),
    };
    sys::make_readonly(pinned.fd(), shown, true, HOST_PROC)?;
    Ok(pinned)
}

/// What the name of a spot must lead to after a classic `mount(2)`.
pub(crate) enum Expect<'a> {
    /// A new filesystem of this kind (`None`: any) on top of the directory.
    Fs(&'static str, Option<FsType>),
    /// The root of a bind of this source.
    SameAs(BorrowedFd<'a>),
}

/// After a classic `mount(2)` on `under`, which gives no handle on the new
/// mount: open the name again and accept it only if it leads to the mount that
/// was made (a swapped-in directory of the root is refused, not used).
pub(crate) fn reopen(
    root: BorrowedFd<'_>,
    spot: &'static Spot,
    under: &OwnedFd,
    expect: Expect<'_>,
) -> Result<Pinned, Error> {
    let shown = Path::new(spot.path);
    let fd = open_at(root, spot.name.as_ref()).map_err(|errno| Error::Fs {
        step: "reopen mount point",
        path: shown.into(),
        errno,
    })?;
    let (fs, made) = match expect {
        Expect::Fs(fs, magic) => {
            let on_top = match (fstat(&fd), fstat(under)) {
                (Ok(top), Ok(below)) => top.st_dev != below.st_dev,
                _ => false,
            };
            let right_fs = magic.map_or(true, |m| fs_magic(&fd) == Some(m));
            (fs, on_top && right_fs)
        }
        Expect::SameAs(src) => ("bind mount", same_inode(fd.as_fd(), src)),
    };
    if made && kind(&fd) == Ok(SFlag::S_IFDIR) {
        pin(fd, spot, fs, None)
    } else {
        Err(spot.replaced(fs))
    }
}

/// Whether `a` is the root of the same mount as `b`, a directory of the
/// filesystem type `magic`. Each procfs, sysfs and tmpfs instance has a
/// device number of its own, and box mounts the root of each only once.
fn same_mount(a: &OwnedFd, b: &OwnedFd, magic_b: FsType) -> bool {
    same_inode(a.as_fd(), b.as_fd())
        && kind(a) == Ok(SFlag::S_IFDIR)
        && fs_magic(a) == Some(magic_b)
}

pub(crate) fn same_inode(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(x), Ok(y)) => (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino),
        _ => false,
    }
}

fn fs_magic(fd: &OwnedFd) -> Option<FsType> {
    fstatfs(fd).ok().map(|s| s.filesystem_type())
}

#[cfg(test)]
mod tests;
