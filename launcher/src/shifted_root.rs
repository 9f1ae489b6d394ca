//! An overlay root for a container in a new user namespace: the layers hold the host's ids,
//! so box, as the host's root, makes the overlay over idmapped clones of them once the
//! child's id maps are written (`box_rootfs::Overlay::mount_idmapped`), and hands the mount to
//! the child over a socket; the child attaches it as its root. The upper directory is given
//! to the container's root before the clone.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
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
    let fds = [root.as_raw_fd()];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(b"r")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map(drop)
    .map_err(Error::sys("send the container its root"))
}

/// Child: the root box made for it (queued before "go").
pub(crate) fn receive(socket: BorrowedFd<'_>) -> Result<OwnedFd, Error> {
    let step = "receive the root from box";
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(Error::sys(step))?;
    for cmsg in msg.cmsgs().map_err(Error::sys(step))? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this fd in our table; we own it now.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(Error::sys(step)(nix::errno::Errno::EBADMSG))
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
