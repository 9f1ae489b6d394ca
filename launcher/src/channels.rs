//! The three channels between box and the child it clones, each close-on-exec: the "go" pipe
//! (one byte from box when the child may start, EOF if box died), the report pipe (the
//! child's [`crate::protocol::ChildMessage`]s; EOF at `execve`), with a terminal, a socket
//! for the pty master the child opens in its own devpts, for an overlay root a socket for
//! the root box makes for it ([`crate::overlay_root`]), and for a cgroup whose v1 part box
//! makes after "go" a socket for its `tasks` files ([`crate::start::V1Join`]).

use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::unistd::{pipe2, write};

use crate::report::{self, Report};
use crate::Error;

/// Both ends of every channel, before the clone.
pub(crate) struct Channels {
    go: (OwnedFd, OwnedFd),
    report: (OwnedFd, OwnedFd),
    tty: Option<(OwnedFd, OwnedFd)>,
    root: Option<(OwnedFd, OwnedFd)>,
    cgroup: Option<(OwnedFd, OwnedFd)>,
}

/// The child's ends, after the clone.
pub(crate) struct ChildEnds {
    pub go: OwnedFd,
    pub report: OwnedFd,
    pub tty_socket: Option<OwnedFd>,
    pub root_socket: Option<OwnedFd>,
    pub cgroup_socket: Option<OwnedFd>,
}

/// The parent's ends, after the clone.
pub(crate) struct ParentEnds {
    go: Option<OwnedFd>,
    report: Option<OwnedFd>,
    pub tty_socket: Option<OwnedFd>,
    pub root_socket: Option<OwnedFd>,
    pub cgroup_socket: Option<OwnedFd>,
}

impl Channels {
    pub(crate) fn open(tty: bool, root: bool, cgroup: bool) -> Result<Channels, Error> {
        let pipe = || pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe"));
        let socket = |wanted: bool| {
            wanted
                .then(|| {
                    socketpair(
                        AddressFamily::Unix,
                        SockType::Stream,
                        None,
                        SockFlag::SOCK_CLOEXEC,
                    )
                    .map_err(Error::sys("socketpair"))
                })
                .transpose()
        };
        Ok(Channels {
            go: pipe()?,
            report: pipe()?,
            tty: socket(tty)?,
            root: socket(root)?,
            cgroup: socket(cgroup)?,
        })
    }

    /// The child's ends (the read end of "go", the write end of the report, its sockets);
    /// the parent's are closed.
    pub(crate) fn into_child(self) -> ChildEnds {
        let Channels {
            go,
            report,
            tty,
            root,
            cgroup,
        } = self;
        ChildEnds {
            go: go.0,
            report: report.1,
            tty_socket: tty.map(|(_, child)| child),
            root_socket: root.map(|(_, child)| child),
            cgroup_socket: cgroup.map(|(_, child)| child),
        }
    }

    /// The parent's ends; the child's are closed, so that EOF means the child is gone.
    pub(crate) fn into_parent(self) -> ParentEnds {
        let Channels {
            go,
            report,
            tty,
            root,
            cgroup,
        } = self;
        ParentEnds {
            go: Some(go.1),
            report: Some(report.0),
            tty_socket: tty.map(|(parent, _)| parent),
            root_socket: root.map(|(parent, _)| parent),
            cgroup_socket: cgroup.map(|(parent, _)| parent),
        }
    }
}

impl ParentEnds {
    /// Tells the child that everything the parent does for it is done.
    pub(crate) fn go(&mut self) -> Result<(), Error> {
        // The pipe, kept, is closed here.
        self.go_and_keep().map(drop)
    }

    /// "go", keeping the pipe open: a held child waits on it for its release (one more byte)
    /// or for box's end (EOF), see [`crate::create`]; a child whose veth box makes after "go"
    /// waits on it for [`link_ready`], one whose device program box attaches then for
    /// [`policy_ready`].
    pub(crate) fn go_and_keep(&mut self) -> Result<Option<OwnedFd>, Error> {
        if let Some(go) = self.go.take() {
            say(&go, b"g", "tell the container to go")?;
            return Ok(Some(go));
        }
        Ok(None)
    }

    /// Reads the child's report until it execs or fails.
    pub(crate) fn read_report(&mut self) -> Result<Report, Error> {
        match self.report.take() {
            Some(fd) => report::read(fd),
            None => Ok(Report::default()),
        }
    }
}

/// Tells the child, on the pipe "go" was sent on, that its veth is there
/// ([`crate::start::Prepared::link_after_go`]).
pub(crate) fn link_ready(go: &OwnedFd) -> Result<(), Error> {
    say(go, b"n", "tell the container its link is there")
}

/// Tells the child, on the pipe "go" was sent on, that its cgroup's device policy is in force
/// ([`crate::start::Prepared::policy_after_go`]).
pub(crate) fn policy_ready(go: &OwnedFd) -> Result<(), Error> {
    say(go, b"d", "tell the container its device policy is in force")
}

/// One byte of box's to the child on the "go" pipe; `what` names it in errors.
fn say(go: &OwnedFd, word: &[u8; 1], what: &'static str) -> Result<(), Error> {
    write(go, word).map(drop).map_err(Error::sys(what))
}
