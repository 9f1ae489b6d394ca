//! A started container, as its supervisor holds it.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use box_cgroup::Cgroup;

use crate::undo::UndoStack;
use crate::Timing;

/// A started container: its command is running.
pub struct Running {
    pub name: String,
    /// The container's PID 1, as the host sees it.
    pub pid: Pid,
    pub(crate) pidfd: Option<OwnedFd>,
    /// The container's cgroup (its own, or the one `box exec` joined), read while it runs.
    pub(crate) cgroup: Option<Arc<Cgroup>>,
    /// Whether `cgroup` is the container's own (on the undo stack), not `box exec`'s joined
    /// one: only then do its OOM kills belong to this start.
    pub(crate) owns_cgroup: bool,
    /// What the start made on the host (the container's own cgroup among it), removed when the
    /// start fails or the container ends.
    pub(crate) undo: UndoStack,
    pub(crate) tty_master: Option<OwnedFd>,
    /// A held child's "go" pipe, on which it waits for its release ([`crate::create`]).
    pub(crate) release: Option<OwnedFd>,
    /// Signals box reads from a signalfd instead of dying of them.
    pub(crate) signals: SigSet,
    pub timings: Vec<Timing>,
    /// Whether the end's removals are timed too (`--timings`).
    pub(crate) timed: bool,
}

/// The signals box forwards to the container (plus SIGCHLD, which it waits for).
pub(crate) fn supervised_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCHLD,
    ] {
        set.add(sig);
    }
    set
}

impl Running {
    /// Nothing started yet: `signals` are blocked, `cgroup` is joined or made.
    pub(crate) fn new(name: &str, signals: SigSet) -> Running {
        Running {
            name: name.to_string(),
            pid: Pid::from_raw(0),
            pidfd: None,
            cgroup: None,
            owns_cgroup: false,
            undo: UndoStack::default(),
            tty_master: None,
            release: None,
            signals,
            timings: Vec::new(),
            timed: false,
        }
    }

    /// Takes the container's terminal (its pty master) to hand it on, e.g. to an OCI
    /// console socket: supervising then copies no terminal.
    pub fn take_tty_master(&mut self) -> Option<OwnedFd> {
        self.tty_master.take()
    }

    /// Undoes a failed start: the child (if any) is killed and reaped, everything the start
    /// made is removed.
    pub(crate) fn abort(&mut self) {
        if self.pid.as_raw() > 0 {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
        // The start error is what the user needs; a cleanup error here would hide it.
        let _ = self.undo.unwind();
        let _ = self.signals.thread_unblock();
    }
}
