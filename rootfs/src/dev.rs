//! A minimal `/dev` on its own tmpfs, like Docker's: the usual character
//! devices and the standard symlinks, then the host devices the configuration
//! adds ([`crate::device`]). Its devpts, shm and mqueue are mounts of the list
//! ([`crate::default_mounts`]).

use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};

use crate::device::{self, Device};
use crate::sys::{self, fd_path};
use crate::Error;

/// (name, major, minor) of the device nodes every container gets.
const NODES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
    ("ptmx", "pts/ptmx"),
];

/// Fills `/dev`: `dev` is the root of the fresh tmpfs mounted there, so plain names below it
/// are safe. The standard device nodes, the links, an empty console file to bind a pty over,
/// then the host devices the configuration adds. devpts, shm and mqueue are mounts of the
/// list, made after this.
pub(crate) fn fill(dev: BorrowedFd<'_>, console: bool, devices: &[Device]) -> Result<(), Error> {
    let dev_path = fd_path(dev);
    let bind = nodes(dev, &dev_path)?;
    for (name, link) in LINKS {
        sys::symlink_at(Path::new(link), dev, name, &shown(name))?;
    }
    if console {
        // An empty file the caller later binds the pty slave over.
        sys::touch_at(dev, OsStr::new("console"), 0o600, Path::new("/dev/console"))?;
    }
    device::create(dev, &dev_path, devices, bind)
}

fn shown(name: &str) -> PathBuf {
    Path::new("/dev").join(name)
}

/// Creates the device nodes with mknod; where that is not allowed (user
/// namespaces), binds the host's nodes over empty files instead, as rootless
/// runc does. Returns whether it had to bind.
fn nodes(dev: BorrowedFd<'_>, dev_path: &Path) -> Result<bool, Error> {
    let mut bind = false;
    for (name, major, minor) in NODES {
        if !bind {
            let perm = Mode::from_bits_truncate(0o666);
            match mknodat(dev, *name, SFlag::S_IFCHR, perm, makedev(*major, *minor)) {
                Ok(()) => continue,
                Err(Errno::EPERM) => bind = true,
                Err(errno) => {
                    return Err(Error::Fs {
                        step: "create device node",
                        path: shown(name),
                        errno,
                    })
                }
            }
        }
        sys::touch_at(dev, OsStr::new(name), 0o666, &shown(name))?;
        let host = Path::new("/oldroot/dev").join(name);
        sys::mount(
            "bind host device",
            Some(&host),
            &dev_path.join(name),
            &shown(name),
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    Ok(bind)
}
