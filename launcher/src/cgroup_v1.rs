//! A hybrid host's v1 cgroups, made after "go" ([`crate::start::V1Join`]): box makes them
//! while the child builds its root and sends it their `tasks` files; the child joins them by
//! itself ([`box_cgroup::SelfJoin`]) before it runs anything of the container's.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;

use box_cgroup::{Prepared, SelfJoin};

use crate::Error;

/// Parent: the `tasks` files to the child, in one message.
pub(crate) fn send(join: &SelfJoin, socket: BorrowedFd<'_>) -> Result<(), Error> {
    let step = "send the container its v1 cgroups";
    crate::fdpass::send_all(socket, b'c', &join.fds(), step)
}

/// Child: into the v1 cgroups box sent. Nothing sent (box failed or died) is an error: the
/// container's program never runs outside its cgroup.
pub(crate) fn join(prepared: &Prepared, socket: BorrowedFd<'_>) -> Result<(), Error> {
    let step = "receive the v1 cgroups from box";
    let fds = crate::fdpass::receive_all(socket, step)?;
    let fds = fds.ok_or_else(|| Error::sys(step)(Errno::EPIPE))?;
    prepared.self_join_of(fds)?.join()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    use super::*;

    #[test]
    fn a_child_whose_box_sent_nothing_does_not_join_and_fails() {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        drop(theirs);
        let layout = box_cgroup::Layout::v1([].into());
        let path = std::path::Path::new("box/x");
        let prepared = box_cgroup::prepare_on(&layout, path, &Default::default()).unwrap();
        let err = join(&prepared, ours.as_fd()).unwrap_err();
        assert!(err.to_string().contains("receive the v1 cgroups"), "{err}");
    }
}
