//! A minimal `/dev` on its own tmpfs, like Docker's: the usual character
//! devices, a private devpts, shm, mqueue and the standard symlinks, then the
//! host devices the configuration adds ([`crate::device`]).

use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;

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

/// Fills `/dev`: `dev` is the root of the fresh tmpfs mounted there (see
/// `pinned::dev`), so plain names below it are safe. `devices` are the host
/// devices the configuration adds.
pub(crate) fn build(dev: BorrowedFd<'_>, console: bool, devices: &[Device]) -> Result<(), Error> {
    let dev_path = fd_path(dev);
    let bind = nodes(dev, &dev_path)?;
    pts(dev, &dev_path)?;
    let shm_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys::mkdir_at(dev, OsStr::new("shm"), 0o1777, Path::new("/dev/shm"))?;
    let shm = Some("mode=1777,size=65536k");
    sys::mount_fs(
        "mount tmpfs",
        "tmpfs",
        &dev_path.join("shm"),
        Path::new("/dev/shm"),
        shm_flags,
        shm,
    )?;
    mqueue(dev, &dev_path)?;
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

/// A new devpts instance, so the container sees only its own ptys.
fn pts(dev: BorrowedFd<'_>, dev_path: &Path) -> Result<(), Error> {
    let shown = Path::new("/dev/pts");
    sys::mkdir_at(dev, OsStr::new("pts"), 0o755, shown)?;
    let target = dev_path.join("pts");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    let with_gid = "newinstance,ptmxmode=0666,mode=0620,gid=5";
    match sys::mount_fs(
        "mount devpts",
        "devpts",
        &target,
        shown,
        flags,
        Some(with_gid),
    ) {
        // gid 5 (tty) is not mapped in this user namespace: go without it.
        Err(Error::Mount {
            errno: Errno::EINVAL,
            ..
        }) => sys::mount_fs(
            "mount devpts",
            "devpts",
            &target,
            shown,
            flags,
            Some("newinstance,ptmxmode=0666,mode=0620"),
        ),
        other => other,
    }
}

/// POSIX message queues. Mounting mqueue needs CAP_SYS_ADMIN over the IPC
/// namespace's owner: in a user namespace that shares the host's IPC
/// namespace this fails with EPERM (EINVAL on some kernels). A queue-less
/// container is still useful, so that case is skipped and the empty mount
/// point removed; any other error is reported.
fn mqueue(dev: BorrowedFd<'_>, dev_path: &Path) -> Result<(), Error> {
    let shown = Path::new("/dev/mqueue");
    sys::mkdir_at(dev, OsStr::new("mqueue"), 0o755, shown)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match sys::mount_fs(
        "mount mqueue",
        "mqueue",
        &dev_path.join("mqueue"),
        shown,
        flags,
        None,
    ) {
        Err(Error::Mount {
            errno: Errno::EPERM | Errno::EINVAL,
            ..
        }) => nix::unistd::unlinkat(dev, "mqueue", UnlinkatFlags::RemoveDir).map_err(|errno| {
            Error::Fs {
                step: "remove",
                path: shown.into(),
                errno,
            }
        }),
        other => other,
    }
}
