//! Joining a pid or time namespace applies to the joiner's *children* only (`setns` changes
//! `pid_for_children` and `time_for_children`), so box joins them just before the clone. It
//! leaves them again right after: otherwise every later child of box would be made in the
//! container's — a thread (which the kernel then refuses: EINVAL), an OCI hook, a second
//! container. (`box` itself ends soon after; `box-runc` runs hooks after starting a process.)

use std::os::fd::{AsFd, OwnedFd};

use box_ns::{Kind, Mode};
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::Mode as FileMode;

use crate::{Error, Spec};

/// The caller's own namespaces for children, to go back to.
pub(crate) struct Saved(Vec<(OwnedFd, CloneFlags)>);

impl Saved {
    /// Before `enter_for_children`: opens what is there now, for the kinds the spec joins.
    pub(crate) fn before_joins(spec: &Spec) -> Result<Saved, Error> {
        let mut saved = Vec::new();
        for (kind, file) in [
            (Kind::Pid, "pid_for_children"),
            (Kind::Time, "time_for_children"),
        ] {
            if !matches!(spec.namespaces.mode(kind), Mode::Join(_)) {
                continue;
            }
            let path = format!("/proc/thread-self/ns/{file}");
            let fd = open(
                path.as_str(),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                FileMode::empty(),
            )
            .map_err(Error::sys("open the namespaces for box's children"))?;
            saved.push((fd, kind.clone_flag()));
        }
        Ok(Saved(saved))
    }

    /// After the clone (made or failed): box's next children are born where box's were.
    pub(crate) fn restore(self) -> Result<(), Error> {
        for (fd, flag) in self.0 {
            setns(fd.as_fd(), flag).map_err(Error::sys("leave the namespaces for children"))?;
        }
        Ok(())
    }
}
