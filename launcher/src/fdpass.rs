//! One fd over a unix socket (`SCM_RIGHTS`): the pty master from the child to box, the root
//! box made from box to the child.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::Error;

/// Sends `fd` with the one byte `tag`; `step` names the failure.
pub(crate) fn send(
    socket: BorrowedFd<'_>,
    tag: u8,
    fd: BorrowedFd<'_>,
    step: &'static str,
) -> Result<(), Error> {
    let fds = [fd.as_raw_fd()];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(&[tag])],
        &[ControlMessage::ScmRights(&fds)],
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
                return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
    }
    Ok(None)
}
