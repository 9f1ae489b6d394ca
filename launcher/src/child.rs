//! The container's side of the start sequence: a flat list of steps, run in the cloned child,
//! each reported to the parent by name if it fails. It never returns: it execs or exits.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::SigSet;
use nix::unistd::{read, sethostname, setsid};

use box_ns::{Joins, Kind, Mode};
use box_rootfs::Workdir;
use box_security::Prepared;

use crate::exec::ExecPlan;
use crate::lifeline::Lifeline;
use crate::report::Reporter;
use crate::{inherit, tty, Error, Spec};

/// What the child takes from the parent.
pub(crate) struct Child<'a> {
    pub spec: &'a Spec,
    pub security: &'a Prepared,
    pub joins: &'a Joins,
    pub exec: &'a ExecPlan,
    /// Read end of the "go" pipe: one byte when the parent is done, EOF if it died.
    pub go: OwnedFd,
    pub report: OwnedFd,
    /// Where the pty master goes, when the container has a terminal.
    pub tty_socket: Option<OwnedFd>,
    /// A pidfd of the parent, to notice it died while the parent-death signal was unset.
    pub lifeline: Lifeline,
}

impl Child<'_> {
    pub(crate) fn run(self) -> ! {
        let Child {
            spec,
            security,
            joins,
            exec,
            go,
            report,
            tty_socket,
            lifeline,
        } = self;
        let keep: Vec<RawFd> = [
            Some(report.as_raw_fd()),
            tty_socket.as_ref().map(AsRawFd::as_raw_fd),
            lifeline.raw_fd(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut steps = Steps {
            reporter: Reporter::new(report),
            clock: spec.timings.then(Instant::now),
        };
        // Born non-dumpable (box is, from before the clone), so no process of a joined pid
        // namespace may open our /proc/PID/exe (box's binary), cwd or fds until execve.
        steps.run("start", lifeline.hold());
        steps.run("wait for box", wait_for_parent(&go));
        drop(go);
        steps.run("join namespaces", join(joins, &lifeline));
        // Before anything is resolved in the container's root: from here on the only fds are
        // stdio, the report pipe, the terminal socket and the lifeline.
        steps.run("close fds", inherit::close_all_but(&keep));
        steps.run("user namespace", enter_user_namespace(spec, &lifeline));
        steps.run("cgroup namespace", enter_cgroup_namespace(spec));
        steps.run("hostname", set_hostname(spec));
        steps.run("rootfs", build_rootfs(spec));
        steps.run("terminal", attach_terminal(spec, tty_socket));
        // Found (and for a new container created) as root, entered as the user.
        let workdir = steps.get("workdir", open_workdir(spec));
        steps.run("user", set_user(security, &lifeline));
        steps.run("chdir", enter_workdir(spec, workdir));
        steps.run("signal dispositions", inherit::reset_signal_dispositions());
        // Before the filter: it governs the container's program, and a profile without
        // close_range (older than Linux 5.9, or denying it) must not stop box's own step.
        steps.run("close-on-exec", inherit::close_on_exec());
        steps.run("security", box_security::apply_restrictions(security));
        steps.run("signal mask", unblock_signals());
        let errno = exec.exec();
        let message = format!("exec {:?} in container: {}", exec.shown, errno.desc());
        steps.reporter.fail("exec", errno, &message)
    }
}

/// Runs the child's steps: a failure is reported by the step's name and ends the child.
struct Steps {
    reporter: Reporter,
    /// Set when timings are wanted: when the current step started.
    clock: Option<Instant>,
}

impl Steps {
    fn run<E: Into<Error>>(&mut self, name: &str, result: Result<(), E>) {
        self.get(name, result)
    }

    fn get<T, E: Into<Error>>(&mut self, name: &str, result: Result<T, E>) -> T {
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                let e = e.into();
                self.reporter.fail(name, errno_of(&e), &e.to_string())
            }
        };
        if let Some(started) = self.clock.as_mut() {
            let now = Instant::now();
            self.reporter.timing(name, now - *started);
            *started = now;
        }
        value
    }
}

/// Joining a user namespace may clear the parent-death signal.
fn join(joins: &Joins, lifeline: &Lifeline) -> Result<(), Error> {
    joins.enter()?;
    lifeline.hold()
}

/// In a user namespace of its own (new, with the maps the parent wrote before "go", or joined
/// by `box exec`), act as that namespace's root: a uid change, which clears the parent-death
/// signal.
fn enter_user_namespace(spec: &Spec, lifeline: &Lifeline) -> Result<(), Error> {
    if *spec.namespaces.mode(Kind::User) != Mode::Host {
        box_ns::become_root()?;
        lifeline.hold()?;
    }
    Ok(())
}

/// A new mount namespace gets the container's root built; a joined one (`box exec`) already
/// has it, and joining it moved us there.
fn build_rootfs(spec: &Spec) -> Result<(), Error> {
    if *spec.namespaces.mode(Kind::Mnt) == Mode::New {
        box_rootfs::setup(&spec.rootfs)?;
    }
    Ok(())
}

fn wait_for_parent(go: &OwnedFd) -> Result<(), Error> {
    let mut byte = [0u8; 1];
    loop {
        match read(go.as_fd(), &mut byte) {
            Ok(1) => return Ok(()),
            Ok(_) => return Err(Error::sys("wait for box")(Errno::EPIPE)),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(Error::sys("wait for box")(errno)),
        }
    }
}

/// After the parent placed us in our cgroup, so that the namespace's root is that cgroup.
fn enter_cgroup_namespace(spec: &Spec) -> Result<(), Error> {
    if *spec.namespaces.mode(Kind::Cgroup) == Mode::New {
        unshare(CloneFlags::CLONE_NEWCGROUP).map_err(Error::sys("unshare cgroup namespace"))?;
    }
    Ok(())
}

fn set_hostname(spec: &Spec) -> Result<(), Error> {
    match (&spec.hostname, spec.namespaces.mode(Kind::Uts)) {
        (Some(name), Mode::New) => sethostname(name).map_err(Error::sys("sethostname")),
        _ => Ok(()),
    }
}

fn attach_terminal(spec: &Spec, socket: Option<OwnedFd>) -> Result<(), Error> {
    let Some(socket) = socket.filter(|_| spec.process.tty) else {
        // Its own session, so box's terminal's Ctrl-C reaches box (which forwards it) only.
        return setsid().map(drop).map_err(Error::sys("setsid"));
    };
    let (master, slave) = tty::open_in_container()?;
    if spec.rootfs.console {
        box_rootfs::bind_console(&slave)?;
    }
    tty::send_master(socket.as_fd(), master.as_fd())
}

/// The user switch, which clears the parent-death signal (and may make the child dumpable).
fn set_user(security: &Prepared, lifeline: &Lifeline) -> Result<(), Error> {
    box_security::apply_identity(security)?;
    lifeline.hold()
}

/// Resolved inside the container's root, never following a link the container made (a
/// workdir may be `app -> /proc/self/fd/3`). A new container gets a missing workdir created,
/// as Docker does; `box exec -w` into a missing one fails, as `docker exec -w` does.
fn open_workdir(spec: &Spec) -> Result<Workdir, Error> {
    let create = *spec.namespaces.mode(Kind::Mnt) == Mode::New;
    Workdir::open(&spec.process.cwd, create).map_err(|e| workdir_error(spec, e))
}

fn enter_workdir(spec: &Spec, workdir: Workdir) -> Result<(), Error> {
    workdir.enter().map_err(|e| workdir_error(spec, e))
}

fn workdir_error(spec: &Spec, e: box_rootfs::Error) -> Error {
    let errno = e.errno().unwrap_or(Errno::UnknownErrno);
    let why = match &e {
        box_rootfs::Error::Resolve { reason, .. } => reason.clone(),
        _ if errno != Errno::UnknownErrno => errno.desc().to_string(),
        other => other.to_string(),
    };
    Error::InContainer {
        step: "workdir".into(),
        errno,
        message: format!("workdir {:?} in container: {why}", spec.process.cwd),
    }
}

/// box blocks the signals it forwards, to read them from a signalfd; the command must start
/// with none blocked.
fn unblock_signals() -> Result<(), Error> {
    SigSet::empty()
        .thread_set_mask()
        .map_err(Error::sys("unblock signals"))
}

fn errno_of(e: &Error) -> Errno {
    match e {
        Error::Sys { errno, .. } | Error::InContainer { errno, .. } => *errno,
        _ => Errno::UnknownErrno,
    }
}
