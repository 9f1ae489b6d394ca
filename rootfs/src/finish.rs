//! Steps after the container's root is complete: switch to it, then hide and
//! protect paths inside it. From here on `/` is the container's root, so
//! plain paths can no longer reach the host.

use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::{stat, SFlag};

use crate::sys::{self, OWN_PROC};
use crate::Error;

/// `pivot_root` into `newroot` with the old root stacked on the same
/// directory, then detach it: the staging tmpfs and the host's tree (at
/// `/oldroot`) vanish from this mount namespace together.
pub(crate) fn pivot(newroot: &Path) -> Result<(), Error> {
    let fs = |step, path: &Path, errno| Error::Fs {
        step,
        path: path.into(),
        errno,
    };
    nix::unistd::chdir(newroot).map_err(|e| fs("chdir", newroot, e))?;
    nix::unistd::pivot_root(".", ".").map_err(|errno| Error::PivotRoot {
        new_root: newroot.into(),
        put_old: newroot.into(),
        errno,
    })?;
    nix::mount::umount2(".", MntFlags::MNT_DETACH).map_err(|errno| Error::Unmount {
        step: "detach old root",
        path: "/".into(),
        errno,
    })?;
    nix::unistd::chdir("/").map_err(|e| fs("chdir", Path::new("/"), e))
}

/// Hides each path: a directory gets an empty read-only tmpfs, anything else
/// `/dev/null`. Paths that do not exist are skipped.
pub(crate) fn mask(paths: &[impl AsRef<Path>]) -> Result<(), Error> {
    for p in paths {
        let p = p.as_ref();
        let Some(is_dir) = kind(p)? else { continue };
        if is_dir {
            let flags =
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            sys::mount_fs("mask directory", "tmpfs", p, p, flags, None)?;
        } else {
            let null = Path::new("/dev/null");
            sys::mount("mask file", Some(null), p, p, None, MsFlags::MS_BIND, None)?;
        }
    }
    Ok(())
}

/// Binds each path onto itself read-only (recursively). Missing paths are skipped.
pub(crate) fn readonly_paths(paths: &[impl AsRef<Path>]) -> Result<(), Error> {
    for p in paths {
        let p = p.as_ref();
        if kind(p)?.is_none() {
            continue;
        }
        sys::mount(
            "bind read-only path",
            Some(p),
            p,
            p,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        let fd = sys::open_path("open read-only path", p)?;
        sys::make_readonly(fd.as_fd(), p, true, OWN_PROC)?;
    }
    Ok(())
}

/// Makes `/` itself read-only; its submounts keep their flags.
pub(crate) fn readonly_root() -> Result<(), Error> {
    let root = Path::new("/");
    let fd = sys::open_path("open root", root)?;
    sys::make_readonly(fd.as_fd(), root, false, OWN_PROC)
}

/// `Some(is_dir)`, or `None` if the path does not exist.
fn kind(p: &Path) -> Result<Option<bool>, Error> {
    match stat(p) {
        Ok(st) => Ok(Some(
            SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR,
        )),
        Err(Errno::ENOENT | Errno::ENOTDIR) => Ok(None),
        Err(errno) => Err(Error::Fs {
            step: "stat",
            path: p.into(),
            errno,
        }),
    }
}
