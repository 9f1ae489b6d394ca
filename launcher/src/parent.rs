//! The parent's side of the start sequence.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use nix::fcntl::OFlag;
use nix::sys::prctl;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, write, Pid};

use box_cgroup::{Cgroup, Layout};
use box_ns::{clone_child, CloneOptions, Cloned, Joins, Kind, Mode};

use crate::child::Child;
use crate::exec::ExecPlan;
use crate::lifeline::Lifeline;
use crate::{report, tty, Error, Spec, Timing};

/// A started container: its command is running.
pub struct Running {
    pub name: String,
    /// The container's PID 1, as the host sees it.
    pub pid: Pid,
    pub(crate) pidfd: Option<OwnedFd>,
    pub(crate) cgroup: Option<Cgroup>,
    /// Whether `cgroup` is this process's own, to remove when it ends (not for `box exec`).
    pub(crate) owns_cgroup: bool,
    pub(crate) tty_master: Option<OwnedFd>,
    /// Signals box reads from a signalfd instead of dying of them.
    pub(crate) signals: SigSet,
    pub timings: Vec<Timing>,
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

struct Timer {
    on: bool,
    last: Instant,
    rows: Vec<Timing>,
}

impl Timer {
    fn lap(&mut self, step: &str) {
        if self.on {
            self.rows.push(Timing {
                step: step.to_string(),
                elapsed: self.last.elapsed(),
            });
            self.last = Instant::now();
        }
    }
}

/// Creates the container and starts its command. Everything created is removed again when a
/// step fails.
pub fn start(spec: &Spec) -> Result<Running, Error> {
    launch(spec, CgroupPlan::Create)
}

/// Where the process's cgroup comes from.
pub(crate) enum CgroupPlan {
    /// No cgroup of its own.
    None,
    /// Create `spec.cgroup` (and remove it when the process ends).
    Create,
    /// An existing cgroup (`box exec`), left in place when the process ends.
    Join(Cgroup),
}

/// The start sequence, for a new container or for a process joining a running one (whose
/// spec joins every namespace, so that no root filesystem is built).
pub(crate) fn launch(spec: &Spec, cgroup: CgroupPlan) -> Result<Running, Error> {
    let mut timer = Timer {
        on: spec.timings,
        last: Instant::now(),
        rows: Vec::new(),
    };
    let security = box_security::prepare(&spec.security)?;
    match spec.namespaces.mode(Kind::Mnt) {
        Mode::New => box_rootfs::check(&spec.rootfs)?,
        Mode::Join(_) => {}
        Mode::Host => {
            return Err(Error::InvalidSpec(
                "the container needs a new mount namespace for its root filesystem".into(),
            ))
        }
    }
    let joins = Joins::open(&spec.namespaces)?;
    let exec = ExecPlan::new(&spec.process)
        .map_err(|nul| Error::InvalidSpec(format!("{:?} holds a NUL byte", nul.0)))?;
    timer.lap("prepare");
    // Blocked before anything is created, so that a Ctrl-C cannot kill box between creating
    // the cgroup and supervising; the child unblocks them just before exec.
    let signals = supervised_signals();
    signals
        .thread_block()
        .map_err(Error::sys("block signals"))?;
    let owns_cgroup = matches!(cgroup, CgroupPlan::Create);
    let cgroup = match cgroup {
        CgroupPlan::None => Ok(None),
        CgroupPlan::Create => create_cgroup(spec),
        CgroupPlan::Join(cg) => Ok(Some(cg)),
    };
    let cgroup = cgroup.inspect_err(|_| {
        let _ = signals.thread_unblock();
    })?;
    timer.lap("cgroup");
    let mut running = Running {
        name: spec.name.clone(),
        pid: Pid::from_raw(0),
        pidfd: None,
        cgroup,
        owns_cgroup,
        tty_master: None,
        signals,
        timings: Vec::new(),
    };
    match spawn(spec, &security, &joins, &exec, &mut running, &mut timer) {
        Ok(()) => {
            running.timings = timer.rows;
            Ok(running)
        }
        Err(e) => {
            running.abort();
            Err(e)
        }
    }
}

fn create_cgroup(spec: &Spec) -> Result<Option<Cgroup>, Error> {
    let Some(cg) = &spec.cgroup else {
        return Ok(None);
    };
    let layout = Layout::detect()?;
    cg.resources.validate(&layout)?;
    // Cgroups of boxes killed with SIGKILL (best effort: a stuck orphan must not stop us).
    if let Some(parent) = cg.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = box_cgroup::sweep_orphans(&layout, parent);
    }
    match Cgroup::create(&layout, &cg.path, &cg.resources) {
        // The sweep skips while another box is creating: this name's own orphan may be left.
        Err(box_cgroup::Error::Exists { .. }) if box_cgroup::remove_orphan(&layout, &cg.path)? => {
            Ok(Some(Cgroup::create(&layout, &cg.path, &cg.resources)?))
        }
        created => Ok(Some(created?)),
    }
}

fn spawn(
    spec: &Spec,
    security: &box_security::Prepared,
    joins: &Joins,
    exec: &ExecPlan,
    running: &mut Running,
    timer: &mut Timer,
) -> Result<(), Error> {
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe"))?;
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe"))?;
    let (tty_parent, tty_child) = if spec.process.tty {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(Error::sys("socketpair"))?;
        (Some(a), Some(b))
    } else {
        (None, None)
    };
    let lifeline = Lifeline::of_this_process()?;
    // The child inherits this: it is born non-dumpable, so that no process of a pid namespace
    // it joins can open its /proc/PID/exe (box's binary), cwd or fds before it execs. box stays
    // so too, for containers that share the host's pid namespace.
    prctl::set_dumpable(false).map_err(Error::sys("prctl(PR_SET_DUMPABLE)"))?;
    joins.enter_for_children()?;
    // The child unshares its cgroup namespace itself, once it is in its cgroup.
    let flags = spec.namespaces.clone_flags() - Kind::Cgroup.clone_flag();
    let opts = CloneOptions {
        flags,
        into_cgroup: running.cgroup.as_ref().and_then(|cg| cg.v2_fd()),
        pidfd: true,
    };
    // SAFETY: box is single-threaded when it starts a container (no thread is ever started
    // before this point), so the child may allocate and run the layer crates.
    match unsafe { clone_child(opts) }? {
        Cloned::Child => {
            drop((go_write, report_read, tty_parent));
            let child = Child {
                spec,
                security,
                joins,
                exec,
                go: go_read,
                report: report_write,
                tty_socket: tty_child,
                lifeline,
            };
            // A panic must not unwind into box's own code in this copy of it: that would run
            // the parent's cleanup in the container's process, and drop fds the child closed.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child.run()));
            // SAFETY: _exit ends the child at once, running none of box's destructors.
            unsafe { libc::_exit(125) }
        }
        Cloned::Parent { pid, pidfd, .. } => {
            drop((go_read, report_write, tty_child, lifeline));
            running.pid = pid;
            running.pidfd = pidfd;
            timer.lap("clone");
            if let (Mode::New, Some(maps)) = (spec.namespaces.mode(Kind::User), &spec.user_maps) {
                box_ns::write_id_maps(pid.as_raw(), &maps.uid, &maps.gid, false)?;
                timer.lap("uid/gid maps");
            }
            if let Some(cg) = &running.cgroup {
                cg.add_process(pid)?;
                timer.lap("cgroup join");
            }
            write(&go_write, b"g").map_err(Error::sys("tell the container to go"))?;
            drop(go_write);
            if let Some(socket) = &tty_parent {
                running.tty_master = tty::receive_master(socket.as_fd())?;
            }
            let report = report::read(report_read)?;
            timer.rows.extend(report.timings);
            timer.last = Instant::now();
            if let Some(failure) = report.failure {
                return Err(failure);
            }
            timer.lap("exec");
            Ok(())
        }
    }
}

impl Running {
    /// Undoes a failed start: the child (if any) is killed and reaped, the cgroup removed.
    fn abort(&mut self) {
        if self.pid.as_raw() > 0 {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
        }
        // The start error is what the user needs; a cleanup error here would hide it.
        let _ = self.remove_cgroup();
        let _ = self.signals.thread_unblock();
    }

    /// Removes the cgroup (killing whatever is still in it).
    pub(crate) fn remove_cgroup(&mut self) -> Result<(), Error> {
        match self.cgroup.take() {
            Some(cg) if self.owns_cgroup => cg.destroy_keep_parents().map_err(Error::from),
            _ => Ok(()),
        }
    }
}
