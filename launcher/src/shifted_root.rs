//! An overlay root for a container in a new user namespace: the layers hold the host's ids,
//! so box, as the host's root, makes the overlay over idmapped clones of them once the
//! child's id maps are written (`box_rootfs::Overlay::mount_idmapped`), and hands the mount to
//! the child over a socket; the child attaches it as its root. The upper directory is given
//! to the container's root before the clone.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use box_ns::IdMap;
use box_rootfs::{Overlay, OverlayDirs};

use crate::{Error, Spec};

/// The overlay of a root that box makes for the child: an overlay root in a new user
/// namespace (one with id maps to write).
pub(crate) fn wanted<'a>(
    spec: &Spec,
    rootfs: Option<&'a box_rootfs::Prepared>,
) -> Option<&'a Overlay> {
    spec.user_maps.as_ref()?;
    rootfs?.overlay()
}

/// Gives the upper directory (the container's `/`) to the host ids of the container's root;
/// left to the host's root when the maps leave the container no root.
pub(crate) fn give_upper(spec: &Spec, dirs: &OverlayDirs) -> Result<(), Error> {
    let Some(maps) = &spec.user_maps else {
        return Ok(());
    };
    match (host_id_of_root(&maps.uid), host_id_of_root(&maps.gid)) {
        (Some(uid), Some(gid)) => Ok(dirs.give_upper(uid, gid)?),
        _ => Ok(()),
    }
}

/// The host id that id 0 inside maps to.
fn host_id_of_root(maps: &[IdMap]) -> Option<u32> {
    maps.iter()
        .find(|m| m.inside == 0 && m.count > 0)
        .map(|m| m.outside)
}

/// Parent, after the child's id maps are written and before "go": the overlay over layers
/// idmapped with the child's user namespace, sent to it.
pub(crate) fn send(overlay: &Overlay, child: Pid, socket: BorrowedFd<'_>) -> Result<(), Error> {
    let path = format!("/proc/{child}/ns/user");
    let userns = nix::fcntl::open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(Error::sys("open the container's user namespace"))?;
    let root = overlay.mount_idmapped(userns.as_fd())?;
    crate::fdpass::send(socket, b'r', root.as_fd(), "send the container its root")
}

/// Child: the root box made for it (queued before "go").
pub(crate) fn receive(socket: BorrowedFd<'_>) -> Result<OwnedFd, Error> {
    let step = "receive the root from box";
    crate::fdpass::receive(socket, step)?
        .ok_or_else(|| Error::sys(step)(nix::errno::Errno::EBADMSG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_host_id_of_inside_zero() {
        let map = |inside, outside, count| IdMap {
            inside,
            outside,
            count,
        };
        assert_eq!(host_id_of_root(&[map(0, 100_000, 65_536)]), Some(100_000));
        assert_eq!(
            host_id_of_root(&[map(1, 200_000, 10), map(0, 1000, 1)]),
            Some(1000)
        );
        assert_eq!(host_id_of_root(&[map(1, 200_000, 10)]), None);
    }
}
