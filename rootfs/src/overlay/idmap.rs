//! An overlay root for a container in a new user namespace. The layers hold the host's ids
//! (a root-owned file is uid 0 on the disk) and are shared with every other container, so
//! they are never chowned: box, as the host's root, mounts a detached clone of each layer
//! idmapped with the container's user namespace (`mount_setattr(2)`, `MOUNT_ATTR_IDMAP`), so
//! that uid 0 on the disk is the container's root, and makes the overlay over the clones.
//! The overlay is made in the host's user namespace (the child, root only of its own, could
//! neither idmap the layers nor read their `trusted.overlay.*` xattrs) and handed to the
//! child, which attaches it as its root. What the container writes goes to the upper
//! directory with its own (host) ids, as overlayfs creates upper files as the writer.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;

use super::{wants_volatile, Overlay, COMMON, VOLATILE};
use crate::setattr::{mount_setattr, MountAttr};
use crate::{mountapi, Error};

impl Overlay {
    /// The overlay over this root's layers, each idmapped with `userns` (the container's
    /// user namespace, its id maps written), as a detached mount for
    /// [`setup_with`](crate::setup_with) to attach. Call as the host's root, after
    /// [`Prepared::create`](crate::Prepared::create) made the upper and work directories
    /// (give the upper to the container's root: [`OverlayDirs::give_upper`](crate::OverlayDirs::give_upper)).
    /// Needs Linux 6.8 (`lowerdir+`; idmapped layers came in 5.19).
    pub fn mount_idmapped(&self, userns: BorrowedFd<'_>) -> Result<OwnedFd, Error> {
        let overlay_err = |(step, errno): mountapi::Failed| Error::Overlay { step, errno };
        let mut clones = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            let dir =
                nix::fcntl::open(layer, flags, Mode::empty()).map_err(|errno| Error::HostPath {
                    step: "open layer",
                    path: layer.clone(),
                    errno,
                })?;
            let clone = mountapi::clone_tree(dir.as_fd(), false).map_err(overlay_err)?;
            idmap(clone.as_fd(), userns).map_err(overlay_err)?;
            clones.push(clone);
        }
        let ctx = mountapi::open_fs("overlay").map_err(overlay_err)?;
        let set = |step, key: &str, value: &[u8]| {
            mountapi::set_string(&ctx, step, key, value).map_err(overlay_err)
        };
        // Top first, as the layers are stacked; each a clone, named through this process's
        // fd (the host's /proc: box is still in the host's namespaces).
        for clone in clones.iter().rev() {
            let path = format!("/proc/self/fd/{}", clone.as_raw_fd());
            set("fsconfig lowerdir+", "lowerdir+", path.as_bytes())?;
        }
        set(
            "fsconfig upperdir",
            "upperdir",
            self.upper().as_os_str().as_bytes(),
        )?;
        set(
            "fsconfig workdir",
            "workdir",
            self.work().as_os_str().as_bytes(),
        )?;
        for option in COMMON {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            set("fsconfig", key, value.as_bytes())?;
        }
        if wants_volatile(self) {
            match mountapi::set_flag(&ctx, "fsconfig volatile", VOLATILE) {
                Ok(()) | Err((_, Errno::EINVAL)) => {}
                Err(failed) => return Err(overlay_err(failed)),
            }
        }
        // The overlay keeps its own private copies of the layers' mounts: the clones go here.
        mountapi::create_and_mount(&ctx, MsFlags::empty()).map_err(overlay_err)
    }
}

/// Makes the detached mount `mnt` idmapped with `userns`.
fn idmap(mnt: BorrowedFd<'_>, userns: BorrowedFd<'_>) -> Result<(), mountapi::Failed> {
    let fd = u64::try_from(userns.as_raw_fd()).map_err(|_| ("mount_setattr", Errno::EBADF))?;
    let attr = MountAttr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: fd,
    };
    mount_setattr(mnt, 0, &attr).map_err(|e| ("mount_setattr idmap layer", e))
}
