//! A container started the OCI way: `create` builds it up to the security filters and returns
//! with its process waiting; another process (`start`) lets it exec later. box itself does not
//! stay: the held process outlives the one that created it and is reaped by whoever adopts it
//! (the engine's subreaper: conmon, the containerd shim).
//!
//! While box builds it, the child is tied to box as in every start (the parent-death signal and
//! the lifeline). Then it must not die with box, so it disarms that signal, says
//! [`ChildMessage::Ready`](crate::ChildMessage::Ready), and waits on its "go" pipe: one more
//! byte ([`Created::release`]) once box has recorded it (its pid file, its state), or EOF if
//! box ended before that — then nobody knows of it, and it exits. After the release it waits on
//! the caller's fd ([`Hold::UntilWritten`]), then installs its security filters and execs.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::errno::Errno;
use nix::sys::prctl;
use nix::unistd::{read, write, Pid};

use box_cgroup::Cgroup;

use crate::report::Reporter;
use crate::start::{launch, CgroupPlan};
use crate::{Error, Running, Spec};

/// What a created container waits for after its release, before it execs.
#[derive(Debug)]
pub enum Hold {
    /// One byte readable on this fd: OCI `create` passes a fifo of its state directory opened
    /// read-write (so the child's read blocks instead of seeing EOF), and `start` writes to it.
    UntilWritten(OwnedFd),
    /// Nothing: it execs as soon as it is released (OCI `exec --detach`).
    UntilReleased,
}

impl Hold {
    pub(crate) fn raw_fd(&self) -> Option<RawFd> {
        match self {
            Hold::UntilWritten(fd) => Some(fd.as_raw_fd()),
            Hold::UntilReleased => None,
        }
    }

    /// In the child, after its release.
    pub(crate) fn wait(&self) -> Result<(), Error> {
        let Hold::UntilWritten(fd) = self else {
            return Ok(());
        };
        read_byte(fd, "wait to be started").map(drop)
    }
}

/// A container whose process waits before `execve` (see the module's documentation).
pub struct Created {
    /// Its process, as the host sees it.
    pub pid: Pid,
    /// Its terminal's master side, when it has one: the caller hands it on (the OCI console
    /// socket).
    pub tty_master: Option<OwnedFd>,
    running: Running,
}

/// Builds the container of `spec` and holds its process before its security filters and
/// `execve`. Its cgroup (if any) is made without sweeping its parent, and stays when this
/// process ends: removing it is the caller's (OCI `delete`).
pub fn create(spec: &Spec, hold: Hold) -> Result<Created, Error> {
    Created::new(launch(spec, CgroupPlan::Keep, Some(&hold))?)
}

/// [`crate::exec`] for a process that outlives the caller (OCI `exec --detach`): it runs in
/// the container's namespaces and cgroup once released.
pub fn exec_detached(
    container: &Spec,
    pid: Pid,
    process: crate::Process,
) -> Result<Created, Error> {
    let (spec, cgroup) = crate::join::exec_spec(container, pid, process)?;
    Created::new(launch(&spec, cgroup, Some(&Hold::UntilReleased))?)
}

impl Created {
    fn new(mut running: Running) -> Result<Created, Error> {
        Ok(Created {
            pid: running.pid,
            tty_master: running.tty_master.take(),
            running,
        })
    }

    /// The container's cgroup, when it has one.
    pub fn cgroup(&self) -> Option<&Arc<Cgroup>> {
        self.running.cgroup.as_ref()
    }

    /// Lets the process go on to wait for its [`Hold`]: from now on it no longer ends with
    /// this process, and what its start made (its cgroup) stays.
    pub fn release(mut self) -> Result<(), Error> {
        if let Some(go) = self.running.release.take() {
            write(&go, b"r").map_err(Error::sys("release the container"))?;
        }
        // Kept: the container's, removed by whoever deletes it.
        self.running.undo = Default::default();
        let _ = self.running.signals.thread_unblock();
        Ok(())
    }

    /// Kills the process and removes what its start made.
    pub fn abort(mut self) {
        self.running.release = None;
        self.running.abort();
        self.running.pid = Pid::from_raw(0);
    }
}

impl Drop for Created {
    /// Neither released nor aborted (the caller failed in between): the process sees EOF on
    /// its "go" pipe and exits, its cgroup is removed.
    fn drop(&mut self) {
        if self.running.release.take().is_some() {
            self.running.abort();
            self.running.pid = Pid::from_raw(0);
        }
    }
}

/// In the child, after its last step before the security filters: stop dying with box, say
/// so, and wait for the release. EOF instead means box ended before it recorded the container:
/// nobody knows of it, so it exits.
pub(crate) fn detach(reporter: &mut Reporter, go: &OwnedFd) -> Result<(), Error> {
    prctl::set_pdeathsig(None).map_err(Error::sys("prctl(PR_SET_PDEATHSIG)"))?;
    reporter.ready()?;
    if read_byte(go, "wait for the release")? == 0 {
        // SAFETY: _exit ends the child at once, running none of box's destructors.
        unsafe { libc::_exit(crate::exit_code::CANNOT_START) }
    }
    Ok(())
}

/// One byte from `fd`: `Ok(1)`, or `Ok(0)` at EOF.
fn read_byte(fd: &OwnedFd, step: &'static str) -> Result<usize, Error> {
    let mut byte = [0u8; 1];
    loop {
        match read(fd.as_fd(), &mut byte) {
            Err(Errno::EINTR) => continue,
            other => return other.map_err(Error::sys(step)),
        }
    }
}
