//! The container's side of the start sequence: a flat list of each layer's child steps, run in
//! the cloned child, each reported to the parent by its [`Step`] if it fails. It never
//! returns: it execs or exits.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::unistd::{read, setsid};

use box_ns::{Kind, Mode};
use box_rootfs::Workdir;

use crate::hold::Hold;
use crate::lifeline::Lifeline;
use crate::protocol::Step;
use crate::report::Reporter;
use crate::start::{Prepared, V1Join};
use crate::{inherit, tty, Error, Spec};

/// What the child takes from the parent.
pub(crate) struct Child<'a> {
    pub spec: &'a Spec,
    pub layers: &'a Prepared,
    /// The cgroup's v1 `tasks` files, to join by itself ([`box_cgroup::SelfJoin`]).
    pub cgroup_join: Option<&'a box_cgroup::SelfJoin>,
    /// Read end of the "go" pipe: one byte when the parent is done, EOF if it died.
    pub go: OwnedFd,
    pub report: OwnedFd,
    /// Where the pty master goes, when the container has a terminal.
    pub tty_socket: Option<OwnedFd>,
    /// Where box sends the overlay root it makes for the child ([`crate::overlay_root`]).
    pub root_socket: Option<OwnedFd>,
    /// Where box sends the `tasks` files of the v1 cgroups it makes after "go"
    /// ([`crate::cgroup_v1`]).
    pub cgroup_socket: Option<OwnedFd>,
    /// The cgroup whose v1 part box makes after "go", to join before the container runs.
    pub cgroup_v1: Option<&'a box_cgroup::Prepared>,
    /// A pidfd of the parent, to notice it died while the parent-death signal was unset.
    pub lifeline: Lifeline,
    /// Held before the security filters and `execve` ([`crate::create`]).
    pub hold: Option<&'a Hold>,
}

impl Child<'_> {
    pub(crate) fn run(self) -> ! {
        let Child {
            spec,
            layers,
            cgroup_join,
            go,
            report,
            tty_socket,
            root_socket,
            cgroup_socket,
            cgroup_v1,
            lifeline,
            hold,
        } = self;
        let Prepared {
            security,
            rootfs,
            namespaces,
            network: _,
            network_inside,
            link_after_go,
            policy_after_go,
            v1_join,
            exec,
        } = layers;
        // The "go" pipe stays open for what box says after "go": the veth, the device policy,
        // a release.
        let keep_go = hold.is_some() || *link_after_go || *policy_after_go;
        let keep: Vec<RawFd> = [
            Some(report.as_raw_fd()),
            tty_socket.as_ref().map(AsRawFd::as_raw_fd),
            root_socket.as_ref().map(AsRawFd::as_raw_fd),
            cgroup_socket.as_ref().map(AsRawFd::as_raw_fd),
            lifeline.raw_fd(),
            keep_go.then(|| go.as_raw_fd()),
            hold.and_then(Hold::raw_fd),
        ]
        .into_iter()
        .flatten()
        .chain(preserved_fds(spec))
        .collect();
        let mut steps = Steps {
            reporter: Reporter::new(report),
            clock: spec.timings.then(Instant::now),
        };
        // Born non-dumpable (box is, from before the clone), so no process of a joined pid
        // namespace may open our /proc/PID/exe (box's binary), cwd or fds until execve.
        steps.run(Step::Start, lifeline.hold());
        // Still single-threaded and in the host's cgroup namespace: into the container's
        // cgroup before anything else, while box does its own steps.
        if let Some(join) = cgroup_join {
            steps.run(Step::CgroupJoin, join.join());
        }
        steps.run(Step::WaitForBox, wait_for_parent(&go));
        // A held child's release comes on it, and the word that box made the veth.
        let go = keep_go.then_some(go);
        // Namespaces. Joining a user namespace, or becoming root of one, changes credentials,
        // which clears the parent-death signal: the lifeline re-arms it.
        let joined = namespaces.join().map(|()| true);
        steps.run(Step::JoinNamespaces, after_ids(joined, &lifeline));
        // Before anything is resolved in the container's root: from here on the only fds are
        // stdio, the report pipe, the terminal socket and the lifeline.
        steps.run(Step::CloseFds, inherit::close_all_but(&keep));
        steps.run(
            Step::UserNamespace,
            after_ids(namespaces.become_root(), &lifeline),
        );
        // Late, in the root filesystem step, when the cgroups to be its root come after "go".
        let join_in_root = *v1_join == V1Join::InRoot;
        if !join_in_root {
            steps.run(Step::CgroupNamespace, namespaces.unshare_cgroup());
        }
        steps.run(
            Step::Hostname,
            namespaces.set_hostname(spec.hostname.as_deref()),
        );
        // In its net namespace, as its root there: lo up; eth0, its address and route.
        if !link_after_go {
            steps.run(Step::NetworkSetup, network_inside.apply());
        }
        steps.run(Step::Hostname, set_domainname(spec));
        // Through the host's /proc, which answers for the namespaces just entered.
        steps.run(Step::Sysctls, box_ns::write_sysctls(&spec.tunables.sysctls));
        // The root filesystem (none to build in a joined mount namespace: `box exec`).
        // A new container's missing workdir is made in it, before `/` may become read-only.
        if let Some(rootfs) = rootfs {
            // An overlay root box makes after "go" (or leaves to the child, on older kernels).
            let made = root_socket.and_then(|socket| {
                steps.get(
                    Step::Rootfs,
                    crate::overlay_root::receive(spec, socket.as_fd()),
                )
            });
            let mut around = AroundCgroupfs {
                join: join_in_root.then_some(LateJoin {
                    namespaces,
                    cgroup: cgroup_v1,
                    socket: cgroup_socket.as_ref(),
                }),
                entered: None,
            };
            let entered = build_root(&mut steps, spec, rootfs, made, &mut around);
            // Fail closed: the join and the unshare left to the root step must have happened.
            if join_in_root && !entered {
                steps.run(Step::CgroupNamespace, Err(NOT_ENTERED));
            }
        }
        // Here when box makes the veth after "go", while this child built its root.
        if *link_after_go {
            let link = go.as_ref().map_or(Ok(()), wait_for_parent);
            steps.run(
                Step::NetworkSetup,
                link.and_then(|()| Ok(network_inside.apply()?)),
            );
        }
        let go = go.filter(|_| hold.is_some() || *policy_after_go);
        steps.run(Step::Terminal, attach_terminal(spec, tty_socket));
        // Found as root (made above for a new container), entered as the user.
        let workdir = steps.get(Step::Workdir, open_workdir(spec));
        // Capabilities and security filters.
        let switched = security.apply_identity().map(|()| true);
        steps.run(Step::User, after_ids(switched, &lifeline));
        steps.run(Step::Chdir, enter_workdir(spec, workdir));
        steps.run(
            Step::SignalDispositions,
            inherit::reset_signal_dispositions(),
        );
        // Before the filter: it governs the container's program, and a profile without
        // close_range (older than Linux 5.9, or denying it) must not stop box's own step.
        steps.run(
            Step::CloseOnExec,
            inherit::close_on_exec(3 + spec.tunables.preserve_fds),
        );
        // The last of box's words before the container's program may run (fail closed: no
        // cgroup or no pipe, no exec): the v1 cgroups to join at the end, whose message comes
        // once the device policy is in force, or else the "d" that says it is.
        if *v1_join == V1Join::AtEnd {
            steps.run(Step::CgroupJoin, join_v1(cgroup_v1, cgroup_socket.as_ref()));
        } else if *policy_after_go {
            let policy = go.as_ref().map_or(Err(NO_PIPE), wait_for_parent);
            steps.run(Step::WaitForBox, policy);
        }
        if let (Some(hold), Some(go)) = (hold, go) {
            let ready = crate::hold::detach(&mut steps.reporter, &go);
            steps.run(Step::Hold, ready.and_then(|()| hold.wait()));
        }
        steps.run(Step::Security, security.apply_restrictions());
        if let Some(mask) = spec.tunables.umask {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
        }
        steps.run(Step::SignalMask, unblock_signals());
        let errno = exec.exec();
        let message = format!("exec {:?} in container: {}", exec.shown, errno.desc());
        steps.reporter.fail(Step::Exec, errno, &message)
    }
}

/// Runs the child's steps: a failure is reported by its step and ends the child.
pub(crate) struct Steps {
    pub(crate) reporter: Reporter,
    /// Set when timings are wanted: when the current step started.
    clock: Option<Instant>,
}

impl Steps {
    fn run<E: Into<Error>>(&mut self, step: Step, result: Result<(), E>) {
        self.get(step, result)
    }

    fn get<T, E: Into<Error>>(&mut self, step: Step, result: Result<T, E>) -> T {
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                let e = e.into();
                self.reporter.fail(step, e.errno(), &e.to_string())
            }
        };
        if let Some(started) = self.clock.as_mut() {
            let now = Instant::now();
            self.reporter.timing(step, now - *started);
            *started = now;
        }
        value
    }
}

/// A step that changed the process's credentials (`Ok(true)`): the kernel then cleared the
/// parent-death signal, which the lifeline re-arms.
fn after_ids<E: Into<Error>>(changed: Result<bool, E>, lifeline: &Lifeline) -> Result<(), Error> {
    if changed.map_err(Into::into)? {
        lifeline.hold()?;
    }
    Ok(())
}

/// The root filesystem step, with `/sys/fs/cgroup` mounted last where it may (on every host
/// alike, so the mount table is the same), after `around`'s join: whether that join ran and
/// succeeded. A failure of the join is reported by its own step.
fn build_root(
    steps: &mut Steps,
    spec: &Spec,
    rootfs: &box_rootfs::Prepared,
    made: Option<OwnedFd>,
    around: &mut AroundCgroupfs<'_>,
) -> bool {
    let hooks = &spec.tunables.create_container;
    let cwd = Some(spec.process.cwd.as_path());
    let built = match (hooks.is_empty(), rootfs.cgroupfs_may_come_last()) {
        (true, true) => rootfs.apply_cgroupfs_last(cwd, made, around),
        (true, false) => rootfs.apply(cwd, made),
        (false, _) => rootfs.apply_before(cwd, made, &mut |view| hooks.run_all(view)),
    };
    let ran = matches!(around.entered, Some(Ok(())));
    match (built, around.entered.take()) {
        (Err(_), Some(Err((step, e)))) => steps.run(step, Err(e)),
        (Err(box_rootfs::Error::Workdir { source, .. }), _) => {
            steps.run(Step::Workdir, Err(workdir_error(spec, *source)))
        }
        (built, _) => steps.run(Step::Rootfs, built),
    }
    ran
}

/// The child's part around its root's last `/sys/fs/cgroup` ([`box_rootfs::BeforeCgroupfs`]):
/// with a late join, it enters its cgroups before that mount, and takes the view box made.
struct AroundCgroupfs<'a> {
    join: Option<LateJoin<'a>>,
    /// How the join went, once it ran.
    entered: Option<Result<(), (Step, Error)>>,
}

/// What a join in the root step needs.
struct LateJoin<'a> {
    namespaces: &'a box_ns::Prepared,
    cgroup: Option<&'a box_cgroup::Prepared>,
    socket: Option<&'a OwnedFd>,
}

impl box_rootfs::BeforeCgroupfs for AroundCgroupfs<'_> {
    fn before(&mut self) -> Result<(), String> {
        let Some(join) = &self.join else {
            return Ok(());
        };
        let done = enter_cgroups(join.namespaces, join.cgroup, join.socket);
        let text = done.as_ref().map(drop).map_err(|(_, e)| e.to_string());
        self.entered = Some(done);
        text
    }

    fn view(&mut self) -> Result<Option<box_rootfs::CgroupView>, String> {
        match self.join.as_ref().and_then(|join| join.socket) {
            Some(socket) => {
                crate::cgroup_v1::receive_view(socket.as_fd()).map_err(|e| e.to_string())
            }
            None => Ok(None),
        }
    }
}

/// Asks box for the view of its root's `/sys/fs/cgroup` (every other mount of the root is
/// made), enters the v1 cgroups box made after "go", then a cgroup namespace of its own,
/// whose root they become.
fn enter_cgroups(
    namespaces: &box_ns::Prepared,
    cgroup: Option<&box_cgroup::Prepared>,
    socket: Option<&OwnedFd>,
) -> Result<(), (Step, Error)> {
    let socket = socket.ok_or((Step::CgroupJoin, NO_PIPE))?;
    crate::cgroup_v1::ask_view(socket.as_fd())
        .and_then(|()| join_v1(cgroup, Some(socket)))
        .map_err(|e| (Step::CgroupJoin, e))?;
    namespaces
        .unshare_cgroup()
        .map_err(|e| (Step::CgroupNamespace, e.into()))
}

/// Into the v1 cgroups box made after "go" ([`crate::cgroup_v1`]).
fn join_v1(cgroup: Option<&box_cgroup::Prepared>, socket: Option<&OwnedFd>) -> Result<(), Error> {
    match (cgroup, socket) {
        (Some(cgroup), Some(socket)) => crate::cgroup_v1::join(cgroup, socket.as_fd()),
        _ => Err(NO_PIPE),
    }
}

const NOT_ENTERED: Error = Error::Sys {
    step: "join the cgroups before the root's /sys/fs/cgroup",
    errno: Errno::EINVAL,
};

const NO_PIPE: Error = Error::Sys {
    step: "wait for box",
    errno: Errno::EBADF,
};

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

/// Resolved inside the container's root, never following a link the container made (a
/// workdir may be `app -> /proc/self/fd/3`). A new container's missing workdir was made with
/// its root, as Docker does; `box exec -w` into a missing one fails, as `docker exec -w` does.
fn open_workdir(spec: &Spec) -> Result<Workdir, Error> {
    Workdir::open(&spec.process.cwd, false).map_err(|e| workdir_error(spec, e))
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
        step: Step::Workdir,
        errno,
        message: format!("workdir {:?} in container: {why}", spec.process.cwd),
    }
}

/// The caller's fds the command gets (`--preserve-fds`), right above stderr.
fn preserved_fds(spec: &Spec) -> impl Iterator<Item = RawFd> {
    let count = RawFd::try_from(spec.tunables.preserve_fds).unwrap_or(RawFd::MAX - 3);
    3..3 + count
}

fn set_domainname(spec: &Spec) -> Result<(), Error> {
    match (&spec.tunables.domainname, spec.namespaces.mode(Kind::Uts)) {
        (Some(name), Mode::New) => Ok(box_ns::set_domainname(name)?),
        _ => Ok(()),
    }
}

/// box blocks the signals it forwards, to read them from a signalfd; the command must start
/// with none blocked.
fn unblock_signals() -> Result<(), Error> {
    SigSet::empty()
        .thread_set_mask()
        .map_err(Error::sys("unblock signals"))
}
