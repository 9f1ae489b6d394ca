//! fds over a unix socket (`SCM_RIGHTS`): the pty master from the child to box, the root box
//! made and the cgroup's v1 `tasks` files from box to the child.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::Error;

/// The most fds one message carries: a v1 host has at most 14 controller hierarchies.
const MAX_FDS: usize = 16;

/// Sends `fd` with the one byte `tag`; `step` names the failure.
pub(crate) fn send(
    socket: BorrowedFd<'_>,
    tag: u8,
    fd: BorrowedFd<'_>,
    step: &'static str,
) -> Result<(), Error> {
    send_all(socket, tag, &[fd], step)
}

/// Sends `fds` (at most [`MAX_FDS`]) in one message with the one byte `tag`.
pub(crate) fn send_all(
    socket: BorrowedFd<'_>,
    tag: u8,
    fds: &[BorrowedFd<'_>],
    step: &'static str,
) -> Result<(), Error> {
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let rights = [ControlMessage::ScmRights(&raw)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(&[tag])],
        // A message with an empty SCM_RIGHTS is refused: none, then.
        if raw.is_empty() { &[] } else { &rights },
        // A peer that is gone is an error to return, not a SIGPIPE.
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map(drop)
    .map_err(Error::sys(step))
}

/// The fd sent on `socket` (close-on-exec); `None` when the peer closed it without sending one.
pub(crate) fn receive(
    socket: BorrowedFd<'_>,
    step: &'static str,
) -> Result<Option<OwnedFd>, Error> {
    Ok(receive_all(socket, step)?.and_then(|fds| fds.into_iter().next()))
}

/// The fds of one message on `socket` (close-on-exec, in their order); `None` when the peer
/// closed it without sending one.
pub(crate) fn receive_all(
    socket: BorrowedFd<'_>,
    step: &'static str,
) -> Result<Option<Vec<OwnedFd>>, Error> {
    Ok(receive_tagged(socket, step)?.map(|(_, fds)| fds))
}

/// [`receive_all`], with the message's tag.
pub(crate) fn receive_tagged(
    socket: BorrowedFd<'_>,
    step: &'static str,
) -> Result<Option<(u8, Vec<OwnedFd>)>, Error> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(Error::sys(step))?;
    if msg.bytes == 0 {
        return Ok(None);
    }
    let mut out = Vec::new();
    for cmsg in msg.cmsgs().map_err(Error::sys(step))? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel just installed these fds in our table; we own them now.
            out.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok(Some((byte[0], out)))
}
