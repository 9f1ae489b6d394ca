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

use crate::pinned::{self, Pinned, DEV};
use crate::resolve::{resolve, Create, Target};
use crate::sys::fd_path;
use crate::{attrs, beneath, dev, Error, Mount, MountType, ReadOnly, RootfsConfig};

/// Makes every mount of `cfg` under `root`; `sources` are the opened sources of the binds,
/// one per mount. Returns the mounts made at `/proc`, `/sys` and `/dev`, in order.
pub(crate) fn make_all(
    root: BorrowedFd<'_>,
    cfg: &RootfsConfig,
    sources: &[Option<OwnedFd>],
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
            pins.push(pin);
            continue;
        }
        let create = match (m.kind, src) {
            (MountType::Bind, Some(src)) if !is_dir(src, m)? => Create::File,
            _ => Create::Dir,
        };
        let (target, created) = match below(&pins, &m.destination) {
            Some((pin, rel)) => beneath::make(pin.fd(), rel, &m.destination, create)?,
            None => (resolve(root, &m.destination, create)?, false),
        };
        match m.kind {
            MountType::Bind => bind(&target, m, src.ok_or_else(|| attrs::unopened(m))?)?,
            _ => fresh(&target, m, created)?,
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

/// A bind of `src` on `t`, then its flags and propagation on the new mount.
fn bind(t: &Target, m: &Mount, src: &OwnedFd) -> Result<(), Error> {
    attrs::mount_bind(m, src.as_fd(), &fd_path(t.fd.as_fd()), &t.shown)?;
    let o = &m.options;
    let more = o.propagation.is_some()
        || !o.flags.is_empty()
        || !o.cleared.is_empty()
        || o.readonly != ReadOnly::No;
    if more {
        let top = t.reopen()?;
        attrs::bind(top.as_fd(), &t.shown, o)?;
        attrs::propagation(top.as_fd(), &t.shown, o)?;
    }
    Ok(())
}

/// A new filesystem on `t`. A message queue filesystem the kernel refuses (a user namespace
/// that does not own the IPC namespace: EPERM, EINVAL on some kernels) is left out, and its
/// mount point too when box made it: queues are rarely needed, the container is still useful.
fn fresh(t: &Target, m: &Mount, created: bool) -> Result<(), Error> {
    let target = fd_path(t.fd.as_fd());
    match attrs::with_gid_fallback(m, |data| attrs::mount_fresh(m, &target, &t.shown, data)) {
        Err(Error::Mount {
            errno: Errno::EPERM | Errno::EINVAL,
            ..
        }) if m.kind == MountType::Mqueue => {
            return if created { t.remove_dir() } else { Ok(()) };
        }
        other => other?,
    }
    if m.options.propagation.is_some() {
        let top = t.reopen()?;
        attrs::propagation(top.as_fd(), &t.shown, &m.options)?;
    }
    Ok(())
}
