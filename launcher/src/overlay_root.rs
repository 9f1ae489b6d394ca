//! An overlay root is made by box and handed to the child over a socket; the child attaches it
//! as its root. box makes it right after "go", while the child joins its namespaces and sets up
//! its network: the mount (overlayfs probing its work directory) overlaps the child's steps
//! instead of adding to them. In a new user namespace it must be box's anyway: the layers hold
//! the host's ids, so box, as the host's root, makes the overlay over clones of them idmapped
//! with the child's user namespace (`box_rootfs::Overlay::mount_idmapped`), which the child,
//! root only of its own namespace, could not; the upper directory is given to the container's
//! root before the clone.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use box_ns::IdMap;
use box_rootfs::{Overlay, OverlayDirs};

use crate::{Error, Spec};

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

/// Parent, after "go" (the child's id maps are written): the overlay, over layers idmapped
/// with the child's user namespace when it has one, sent to the child. Nothing is sent where
/// the kernel cannot make it detached (before Linux 6.8): the socket's end tells the child to
/// mount it itself (the caller closes the socket).
pub(crate) fn send(
    spec: &Spec,
    overlay: &Overlay,
    child: Pid,
    socket: BorrowedFd<'_>,
) -> Result<(), Error> {
    let root = match spec.user_maps {
        Some(_) => {
            let path = format!("/proc/{child}/ns/user");
            let userns = nix::fcntl::open(
                path.as_str(),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(Error::sys("open the container's user namespace"))?;
            Some(overlay.mount_idmapped(userns.as_fd())?)
        }
        None => overlay.mount_detached()?,
    };
    match root {
        Some(root) => {
            crate::fdpass::send(socket, b'r', root.as_fd(), "send the container its root")
        }
        None => Ok(()),
    }
}

/// Child: the root box made for it; `None` when box left it to the child. In a new user
/// namespace the child cannot make it: nothing sent is an error.
pub(crate) fn receive(spec: &Spec, socket: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Error> {
    let step = "receive the root from box";
    match crate::fdpass::receive(socket, step)? {
        None if spec.user_maps.is_some() => Err(Error::sys(step)(nix::errno::Errno::EBADMSG)),
        made => Ok(made),
    }
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
