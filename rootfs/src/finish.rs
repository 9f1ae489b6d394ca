//! Steps after the container's root is complete: switch to it and, if asked,
//! make it read-only. From here on `/` is the container's root, so plain
//! paths can no longer reach the host.

use std::os::fd::BorrowedFd;
use std::path::Path;

use nix::mount::MntFlags;

use crate::sys::{self, HOST_PROC};
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

/// Makes the new root's own mount read-only (before the pivot, by handle);
/// its submounts keep their flags.
pub(crate) fn readonly_root(root: BorrowedFd<'_>) -> Result<(), Error> {
    sys::make_readonly(root, Path::new("/"), false, HOST_PROC)
}
