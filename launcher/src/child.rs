//! The container's side of the start sequence: a flat list of steps, run in the cloned child,
//! each reported to the parent by name if it fails. It never returns: it execs or exits.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::sys::prctl;
use nix::sys::signal::{signal, SigHandler, SigSet, Signal};
use nix::unistd::{chdir, read, sethostname, setsid};

use box_ns::{Joins, Kind, Mode};
use box_security::Prepared;

use crate::exec::ExecPlan;
use crate::report::Reporter;
use crate::{tty, Error, Spec};

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
        } = self;
        let mut steps = Steps {
            reporter: Reporter::new(report),
            clock: spec.timings.then(Instant::now),
        };
        steps.run("wait for box", wait_for_parent(&go));
        drop(go);
        steps.run("join namespaces", joins.enter());
        steps.run("user namespace", enter_user_namespace(spec));
        steps.run("cgroup namespace", enter_cgroup_namespace(spec));
        steps.run("hostname", set_hostname(spec));
        steps.run("rootfs", build_rootfs(spec));
        steps.run("terminal", attach_terminal(spec, tty_socket));
        steps.run("workdir", make_workdir(spec));
        steps.run("user", box_security::apply_identity(security));
        steps.run(
            "chdir",
            chdir(&spec.process.cwd).map_err(Error::sys("chdir to the workdir")),
        );
        // A uid change clears the parent-death signal: set it again for the command.
        steps.run("parent-death signal", die_with_parent());
        // Before the filter: it governs the container's program, and a profile without
        // close_range (older than Linux 5.9, or denying it) must not stop box's own step.
        steps.run("close fds", close_inherited_fds());
        steps.run("security", box_security::apply_restrictions(security));
        steps.run("signals", reset_signals());
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
        if let Err(e) = result {
            let e = e.into();
            self.reporter.fail(name, errno_of(&e), &e.to_string());
        }
        if let Some(started) = self.clock.as_mut() {
            let now = Instant::now();
            self.reporter.timing(name, now - *started);
            *started = now;
        }
    }
}

/// In a user namespace of its own (new, with the maps the parent wrote before "go", or joined
/// by `box exec`), act as that namespace's root.
fn enter_user_namespace(spec: &Spec) -> Result<(), Error> {
    if *spec.namespaces.mode(Kind::User) != Mode::Host {
        box_ns::become_root()?;
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

/// The first thing the child does, before it waits: die with box, and keep other processes
/// (say, in a joined pid namespace) from opening our `/proc/PID/exe`, which is box's binary.
pub(crate) fn early_setup() -> Result<(), Error> {
    die_with_parent()?;
    prctl::set_dumpable(false).map_err(Error::sys("prctl(PR_SET_DUMPABLE)"))
}

fn die_with_parent() -> Result<(), Error> {
    prctl::set_pdeathsig(Signal::SIGKILL).map_err(Error::sys("prctl(PR_SET_PDEATHSIG)"))
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

/// Docker creates a missing workdir of a new container; done as root, before the user switch.
fn make_workdir(spec: &Spec) -> Result<(), Error> {
    if *spec.namespaces.mode(Kind::Mnt) != Mode::New {
        return Ok(());
    }
    std::fs::create_dir_all(&spec.process.cwd).map_err(|e| Error::Sys {
        step: "create the workdir",
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
    })
}

/// box blocks signals to read them from a signalfd, and Rust ignores SIGPIPE; the command
/// must start with neither.
fn reset_signals() -> Result<(), Error> {
    // SAFETY: restoring the default disposition installs no handler code.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map_err(Error::sys("reset SIGPIPE"))?;
    SigSet::empty()
        .thread_set_mask()
        .map_err(Error::sys("unblock signals"))
}

/// Marks every fd above stderr close-on-exec, so nothing of box's leaks into the container.
fn close_inherited_fds() -> Result<(), Error> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes flags of this process's fds.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    Errno::result(ret)
        .map(drop)
        .map_err(Error::sys("close_range"))
}

fn errno_of(e: &Error) -> Errno {
    match e {
        Error::Sys { errno, .. } => *errno,
        _ => Errno::UnknownErrno,
    }
}
