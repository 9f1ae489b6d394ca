//! A hybrid host's v1 cgroups, made after "go" ([`crate::start::V1Join`]): box makes them
//! while the child builds its root and sends it their `tasks` files; the child joins them by
//! itself ([`box_cgroup::SelfJoin`]) before it runs anything of the container's.
//!
//! A child that joins them in its root step, to unshare its cgroup namespace before its
//! `/sys/fs/cgroup` is mounted, says when its root's other mounts are made ([`ask_view`]).
//! box then binds the container's cgroup directories for that view ([`send_view`]) while the
//! child enters its root, and the child mounts them instead of a fresh mount per hierarchy
//! ([`receive_view`]). Not before it asks: mountinfo lists mounts in the order they were
//! made, and the container's must be the same at every start.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use box_cgroup::{Cgroup, Prepared, SelfJoin};
use box_rootfs::{CgroupFs, CgroupView};

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

/// Child: tells box that every mount of its root but `/sys/fs/cgroup` is made.
pub(crate) fn ask_view(socket: BorrowedFd<'_>) -> Result<(), Error> {
    nix::unistd::write(socket, b"v")
        .map(drop)
        .map_err(Error::sys("ask box for the cgroup view"))
}

/// Parent: whether the child has asked for its view already (or is gone), without waiting.
pub(crate) fn asked(socket: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(socket, PollFlags::POLLIN)];
    nix::poll::poll(&mut fds, PollTimeout::ZERO).is_ok_and(|ready| ready > 0)
}

/// Parent: once the child asks, the view of the root's `/sys/fs/cgroup` (if it has one of
/// several hierarchies), made from binds of `cg`'s own directory on each hierarchy, matched
/// by the name of the hierarchy's mount point as the view names them
/// ([`box_rootfs::view_tree`]): the whole tree (tag `t`), or the binds for the child to
/// attach (tag `v`), in one message. They spare the child a fresh mount per hierarchy; where
/// a bind cannot be made, nothing is sent and the child mounts them fresh.
pub(crate) fn send_view(
    cg: &Cgroup,
    view: Option<&CgroupFs>,
    socket: BorrowedFd<'_>,
) -> Result<(), Error> {
    let step = "wait for the child to ask for its cgroup view";
    let mut byte = [0u8; 1];
    match nix::unistd::read(socket, &mut byte) {
        Ok(1) => {}
        Ok(_) => return Err(Error::sys(step)(Errno::EPIPE)),
        Err(errno) => return Err(Error::sys(step)(errno)),
    }
    let made = match (view, cg.own_directories()) {
        (Some(view), Some(dirs)) => box_rootfs::view_tree(view, |h| bind_of(&dirs, cg, &h.name))?,
        _ => None,
    };
    let step = "send the container its cgroup view";
    match made {
        Some(CgroupView::Tree(tree)) => crate::fdpass::send(socket, TREE, tree.as_fd(), step),
        Some(CgroupView::Binds(binds)) => {
            let fds: Vec<BorrowedFd<'_>> = binds.iter().map(AsFd::as_fd).collect();
            crate::fdpass::send_all(socket, BINDS, &fds, step)
        }
        None => crate::fdpass::send_all(socket, BINDS, &[], step),
    }
}

/// The tags of the view's message: the whole tree, or binds (none: fresh mounts).
const TREE: u8 = b't';
const BINDS: u8 = b'v';

/// A bind of `cg`'s directory on the hierarchy mounted at `.../name`.
fn bind_of(dirs: &[(&Path, BorrowedFd<'_>)], cg: &Cgroup, name: &str) -> Option<OwnedFd> {
    let (mount, fd) = dirs
        .iter()
        .find(|(mount, _)| mount.file_name().is_some_and(|n| n == name))?;
    box_rootfs::bind_of_directory(*fd, &mount.join(cg.path())).ok()
}

/// Child: the view box sent; none (no binds, or box gone) means fresh mounts.
pub(crate) fn receive_view(socket: BorrowedFd<'_>) -> Result<Option<CgroupView>, Error> {
    let step = "receive the cgroup view from box";
    let Some((tag, mut fds)) = crate::fdpass::receive_tagged(socket, step)? else {
        return Ok(None);
    };
    Ok(match (tag, fds.len()) {
        (TREE, 1) => fds.pop().map(CgroupView::Tree),
        (BINDS, 0) => None,
        (BINDS, _) => Some(CgroupView::Binds(fds)),
        _ => return Err(Error::sys(step)(Errno::EPROTO)),
    })
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
