//! The configured mounts, made in list order inside the new root.
//!
//! Where a mount goes decides how its target is found:
//! - at `/proc`, `/sys` or `/dev`: on a real directory of the root, held by fd
//!   ([`pinned`](crate::pinned));
//! - below one of those, once box has mounted there: beneath the handle on the last mount
//!   there, no symlink followed, missing directories made in box's own filesystem;
//! - anywhere else: resolved inside the root ([`resolve`]), symlinks replayed as if the root
//!   were `/`.
//!
//! The first tmpfs at `/dev` is filled as soon as it is mounted (device nodes, links, the
//! console, the configured devices): nothing of the user's is mounted there yet, so nothing
//! they make can land on a host directory bound below `/dev`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};

use crate::beneath::open_beneath;
use crate::pinned::{self, Pinned, DEV, SYS};
use crate::resolve::{resolve, Create, Target};
use crate::sys::{fd_path, HOST_PROC};
use crate::{attrs, beneath, cgroupfs, dev, Error, Mount, MountType, ReadOnly, RootfsConfig};

/// Makes every mount of `cfg` under `root`; `sources`, one per mount, are the opened sources
/// of the binds and the detached mounts of the other filesystems ([`attrs::detached`]). Returns the mounts made at `/proc`, `/sys` and `/dev`, in order.
pub(crate) fn make_all(
    root: BorrowedFd<'_>,
    cfg: &RootfsConfig,
    sources: &[Option<OwnedFd>],
    cgroupfs_last: bool,
) -> Result<Vec<Pinned>, Error> {
    let mut pins: Vec<Pinned> = Vec::new();
    let mut dev_filled = false;
    for (m, src) in cfg.mounts.iter().zip(sources) {
        let src = src.as_ref();
        if let Some(spot) = pinned::spot_at(&m.destination) {
            let pin = pinned::at_spot(root, spot, m, src)?;
            if spot == &DEV && m.kind == MountType::Tmpfs && !dev_filled {
                dev::fill(pin.fd(), cfg.console, &cfg.devices)?;
                dev_filled = true;
            }
            if spot == &SYS && !cgroupfs_last {
                if let Some(fs) = &cfg.cgroupfs {
                    cgroupfs::make(pin.fd(), fs, None, HOST_PROC)?;
                }
            }
            pins.push(pin);
            continue;
        }
        let create = match (m.kind, src) {
            (MountType::Bind, Some(src)) if !is_dir(src, m)? => Create::File,
            _ => Create::Dir,
        };
        let place = match below(&pins, &m.destination) {
            Some((pin, rel)) => {
                let (fd, created) = beneath::make(pin.fd(), rel, &m.destination, create)?;
                Place::Beneath {
                    fd,
                    under: pin.fd(),
                    rel,
                    created,
                }
            }
            None => Place::Tree(resolve(root, &m.destination, create)?),
        };
        match (m.kind, src) {
            (MountType::Bind, _) => bind(&place, m, src.ok_or_else(|| attrs::unopened(m))?)?,
            (MountType::Other(_), Some(mnt)) => {
                attrs::attach(m, mnt.as_fd(), place.fd())?;
                if m.options.propagation.is_some() {
                    let top = place.reopen(m)?;
                    attrs::propagation(top.as_fd(), &m.destination, &m.options)?;
                }
            }
            _ => fresh(&place, m)?,
        }
    }
    Ok(pins)
}

/// The last mount made at the spot `destination` is below, and the rest of the path.
pub(crate) fn below<'a, 'p>(
    pins: &'a [Pinned],
    destination: &'p Path,
) -> Option<(&'a Pinned, &'p Path)> {
    pins.iter().rev().find_map(|pin| {
        let rel = destination.strip_prefix(pin.spot.path).ok()?;
        (!rel.as_os_str().is_empty()).then_some((pin, rel))
    })
}

fn is_dir(src: &OwnedFd, m: &Mount) -> Result<bool, Error> {
    let st = fstat(src).map_err(|errno| Error::HostPath {
        step: "stat bind source",
        path: m.source.clone().unwrap_or_default(),
        errno,
    })?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

/// Where a mount not at a spot goes.
enum Place<'a> {
    /// Resolved inside the root.
    Tree(Target),
    /// Below a mount box made at a spot: `rel` beneath `under`.
    Beneath {
        fd: OwnedFd,
        under: BorrowedFd<'a>,
        rel: &'a Path,
        /// The last component was made for this mount.
        created: bool,
    },
}

impl Place<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Place::Tree(t) => t.fd.as_fd(),
            Place::Beneath { fd, .. } => fd.as_fd(),
        }
    }

    /// The same path opened again: after a mount on it, the mount's root.
    fn reopen(&self, m: &Mount) -> Result<OwnedFd, Error> {
        match self {
            Place::Tree(t) => t.reopen(),
            Place::Beneath { under, rel, .. } => {
                open_beneath(*under, rel).map_err(|errno| Error::Fs {
                    step: "reopen mount point",
                    path: m.destination.clone(),
                    errno,
                })
            }
        }
    }

    /// Takes away a mount point box made, for a mount it then left out.
    fn remove_made_dir(&self, m: &Mount) -> Result<(), Error> {
        let Place::Beneath {
            under,
            rel,
            created: true,
            ..
        } = self
        else {
            return Ok(());
        };
        let err = |errno| Error::Fs {
            step: "remove",
            path: m.destination.clone(),
            errno,
        };
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Ok(());
        };
        let dir = if parent.as_os_str().is_empty() {
            under.try_clone_to_owned().map_err(|_| err(Errno::EMFILE))?
        } else {
            open_beneath(*under, parent).map_err(err)?
        };
        nix::unistd::unlinkat(&dir, name, nix::unistd::UnlinkatFlags::RemoveDir).map_err(err)
    }
}

/// A bind of `src` at `place`, then its flags and propagation on the new mount.
fn bind(place: &Place<'_>, m: &Mount, src: &OwnedFd) -> Result<(), Error> {
    let shown = &m.destination;
    attrs::mount_bind(m, src.as_fd(), &fd_path(place.fd()), shown)?;
    let o = &m.options;
    let more = o.propagation.is_some()
        || !o.flags.is_empty()
        || !o.cleared.is_empty()
        || o.readonly != ReadOnly::No;
    if more {
        let top = place.reopen(m)?;
        attrs::bind(top.as_fd(), shown, o)?;
        attrs::propagation(top.as_fd(), shown, o)?;
    }
    Ok(())
}

/// A new filesystem at `place`. A message queue filesystem the kernel refuses (a user
/// namespace that does not own the IPC namespace: EPERM, EINVAL on some kernels) is left out,
/// and its mount point too when box made it: queues are rarely needed, the container is still
/// useful.
fn fresh(place: &Place<'_>, m: &Mount) -> Result<(), Error> {
    let (target, shown) = (fd_path(place.fd()), &m.destination);
    match attrs::with_gid_fallback(m, |data| attrs::mount_fresh(m, &target, shown, data)) {
        Err(Error::Mount {
            errno: Errno::EPERM | Errno::EINVAL,
            ..
        }) if m.kind == MountType::Mqueue => return place.remove_made_dir(m),
        other => other?,
    }
    if m.options.propagation.is_some() {
        let top = place.reopen(m)?;
        attrs::propagation(top.as_fd(), shown, &m.options)?;
    }
    Ok(())
}
