//! The parent's side of the start sequence: a flat list of each layer's steps, in the order
//! of the article a container comes from — process, namespaces, cgroups, capabilities and
//! security filters — with an undo stack for what the steps make on the host.
//!
//! Every layer crate has the same shape: `prepare` here before the clone (resolve, open,
//! compile, check the host: nothing is created, so a failure leaves nothing behind), `create`
//! where the layer makes something on the host (pushed on the undo stack), a step on the child
//! after the clone and before "go", and its steps in the child ([`crate::child`]). What can
//! wait (the sweep of dead boxes' cgroups) is done after "go", alongside the child.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::prctl;

use box_cgroup::Cgroup;
use box_ns::{clone_child, CloneOptions, Cloned, Kind, Mode};

use crate::channels::Channels;
use crate::child::Child;
use crate::exec::ExecPlan;
use crate::for_children::Saved;
use crate::hold::Hold;
use crate::lifeline::Lifeline;
use crate::protocol::Step;
use crate::running::{supervised_signals, Running};
use crate::{Error, Spec, Timing};

mod cgroup;

use cgroup::{prepare_cgroup, PreparedCgroup};

/// Creates the container and starts its command. Everything created is removed again when a
/// step fails.
pub fn start(spec: &Spec) -> Result<Running, Error> {
    launch(spec, CgroupPlan::Create, None)
}

/// Where the process's cgroup comes from.
pub(crate) enum CgroupPlan {
    /// Create `spec.cgroup` (none when the spec has none), removed when the process ends.
    Create,
    /// Create `spec.cgroup` for a container that outlives this process ([`crate::create`]):
    /// no sweep of its parent, whose other cgroups have no live creator either, and kept
    /// when the start succeeds (the OCI `delete` removes it).
    Keep,
    /// An existing cgroup (`box exec`), left in place when the process ends.
    Join(Cgroup),
}

/// What each layer prepared in the parent, for the child to apply.
pub(crate) struct Prepared {
    pub security: box_security::Prepared,
    /// `None` when the mount namespace is joined (`box exec`): it already has its root.
    pub rootfs: Option<box_rootfs::Prepared>,
    pub namespaces: box_ns::Prepared,
    pub network: box_net::Prepared,
    /// What the child does in its net namespace, once `network` made what it makes.
    pub network_inside: box_net::Inside,
    /// box makes the container's veth after "go", while the child builds its root, and says
    /// so on the "go" pipe; the child sets up its network after its root filesystem step.
    /// Not when a sysctl of the `net.` tree is set: those come before the root (through the
    /// host's /proc) and may name `eth0`.
    pub link_after_go: bool,
    /// box attaches the cgroup's device program after "go" (its load is the costliest part
    /// of a cgroup's creation) and says so on the "go" pipe; the child waits
    /// for that before it runs anything of the container's. Only for [`start`]: an OCI
    /// container ([`crate::create`], `CgroupPlan::Keep`) may run createContainer hooks in its
    /// cgroup during the child's root filesystem step, so its policy comes before the clone.
    pub policy_after_go: bool,
    /// Where the child joins its cgroup's v1 hierarchies, and so when box makes them.
    pub v1_join: V1Join,
    pub exec: ExecPlan,
}

/// Where the child joins its cgroup's v1 hierarchies. Except at [`V1Join::First`], box makes
/// only the unified directory before the clone (the child is cloned into it) and the v1
/// directories, limits and device files after "go", while the child builds its root, and
/// sends it their `tasks` files ([`crate::cgroup_v1`]): a hybrid host's cgroup, for [`start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum V1Join {
    /// First thing, through `tasks` fds box opened before the clone (none on a pure v2 host).
    First,
    /// After its last step of its own, in the host's cgroup namespace: the fds come once the
    /// device policy is in force too, and stand for its "d".
    AtEnd,
    /// In its root filesystem step, then it unshares its own cgroup namespace, just before
    /// the root's `/sys/fs/cgroup` (made last, [`box_rootfs::Prepared::apply_cgroupfs_last`]),
    /// which shows the namespace's cgroups: the fds come as soon as the v1 part is made, the
    /// "d" after.
    InRoot,
}

impl V1Join {
    /// Whether box makes the v1 part after "go".
    pub(crate) fn after_go(self) -> bool {
        self != V1Join::First
    }
}

/// The start sequence, for a new container or for a process joining a running one (whose
/// spec joins every namespace, so that no root filesystem is built).
pub(crate) fn launch(
    spec: &Spec,
    cgroup: CgroupPlan,
    hold: Option<&Hold>,
) -> Result<Running, Error> {
    check_preserved_fds(spec.tunables.preserve_fds)?;
    let mut timer = Timer::new(spec.timings);
    // Parent, before the clone: every layer resolves, opens, compiles and checks.
    let security = match &spec.security_host {
        Some(host) => box_security::prepare_on(&spec.security, host)?,
        None => box_security::prepare(&spec.security)?,
    };
    // The cgroup first: its layout decides what the root's /sys/fs/cgroup shows.
    let cgroup = prepare_cgroup(spec, cgroup)?;
    let rootfs = prepare_rootfs(spec, cgroup.layout())?;
    let namespaces = box_ns::prepare(&spec.namespaces)?;
    let new_netns = *spec.namespaces.mode(Kind::Net) == Mode::New;
    let network = box_net::prepare(&spec.network, new_netns)?;
    box_ns::check_sysctls(&spec.tunables.sysctls, &spec.namespaces)?;
    let exec = ExecPlan::new(&spec.process)
        .map_err(|nul| Error::InvalidSpec(format!("{:?} holds a NUL byte", nul.0)))?;
    let mut layers = Prepared {
        security,
        rootfs,
        namespaces,
        network_inside: network.inside(None),
        link_after_go: false,
        policy_after_go: false,
        v1_join: V1Join::First,
        network,
        exec,
    };
    timer.lap(Step::Prepare);
    // Blocked before anything is created, so that a Ctrl-C cannot kill box between creating
    // something and supervising; the child unblocks them just before exec.
    let signals = supervised_signals();
    signals
        .thread_block()
        .map_err(Error::sys("block signals"))?;
    let mut running = Running::new(&spec.name, signals);
    match create_and_spawn(spec, &mut layers, cgroup, hold, &mut running, &mut timer) {
        Ok(()) => {
            running.timings = timer.rows;
            running.timed = spec.timings;
            Ok(running)
        }
        Err(e) => {
            running.abort();
            Err(e)
        }
    }
}

/// The root filesystem, its `/sys/fs/cgroup` decided by `layout` (the container's own
/// cgroups, when it has some, in a cgroup namespace of its own).
fn prepare_rootfs(
    spec: &Spec,
    layout: Option<&box_cgroup::Layout>,
) -> Result<Option<box_rootfs::Prepared>, Error> {
    let own_cgroupns = *spec.namespaces.mode(Kind::Cgroup) == Mode::New;
    match spec.namespaces.mode(Kind::Mnt) {
        Mode::New if spec.rootfs.cgroupfs == Some(box_rootfs::CgroupFs::Detect) => {
            let mut config = spec.rootfs.clone();
            crate::cgroupfs::resolve(&mut config, layout, own_cgroupns);
            Ok(Some(box_rootfs::prepare(&config)?))
        }
        Mode::New => Ok(Some(box_rootfs::prepare(&spec.rootfs)?)),
        Mode::Join(_) => Ok(None),
        Mode::Host => Err(Error::InvalidSpec(
            "the container needs a new mount namespace for its root filesystem".into(),
        )),
    }
}

/// The root filesystem again, with the network's `/etc/hosts`, `/etc/resolv.conf` and
/// `/etc/hostname` bound over the container's (they exist only once the network layer made
/// them, after every layer was prepared).
fn with_network_files(
    spec: &Spec,
    rootfs: Option<box_rootfs::Prepared>,
    attachment: &box_net::Attachment,
) -> Result<Option<box_rootfs::Prepared>, Error> {
    let Some(rootfs) = rootfs else {
        return Ok(None);
    };
    let mut config = rootfs.config().clone();
    for (source, target) in attachment.mounts() {
        // The user's own mount of the same file wins, as Docker lets `-v` override them.
        if spec
            .rootfs
            .mounts
            .iter()
            .any(|m| m.destination == std::path::Path::new(target))
        {
            continue;
        }
        config
            .mounts
            .push(box_rootfs::Mount::bind(source, target, false));
    }
    Ok(Some(box_rootfs::prepare(&config)?))
}

/// Host objects, the clone, each layer's step on the child, "go", and the child's report.
fn create_and_spawn(
    spec: &Spec,
    layers: &mut Prepared,
    cgroup: PreparedCgroup,
    hold: Option<&Hold>,
    running: &mut Running,
    timer: &mut Timer,
) -> Result<(), Error> {
    // First made, last removed: after the cgroup's removal has killed every process that
    // could still write into it.
    if let Some(rootfs) = &layers.rootfs {
        if let Some(dirs) = rootfs.create()? {
            crate::overlay_root::give_upper(spec, &dirs)?;
            running.undo.push(dirs);
            timer.lap(Step::RootfsDirs);
        }
    }
    // Its device policy, its parent's sweep and on a hybrid host its v1 part come after
    // "go", while the child builds its root.
    let after_go = cgroup::create(spec, layers, cgroup, running, timer)?;
    let network = layers.network.create()?.map(Arc::new);
    if let Some(attachment) = &network {
        running.undo.push(attachment.clone());
        layers.network_inside = layers.network.inside(Some(attachment));
        layers.link_after_go = !spec
            .tunables
            .sysctls
            .iter()
            .any(|(key, _)| key.starts_with("net."));
        layers.rootfs = with_network_files(spec, layers.rootfs.take(), attachment)?;
        timer.lap(Step::Network);
    }
    let layers = &*layers;
    // An overlay root is box's to make (a root to build means a new mount namespace).
    let made_root = layers
        .rootfs
        .as_ref()
        .and_then(box_rootfs::Prepared::overlay);
    let channels = Channels::open(
        spec.process.tty,
        made_root.is_some(),
        layers.v1_join.after_go(),
    )?;
    let lifeline = Lifeline::of_this_process()?;
    // The child inherits this: it is born non-dumpable, so that no process of a pid namespace
    // it joins can open its /proc/PID/exe (box's binary), cwd or fds before it execs. box stays
    // so too, for containers that share the host's pid namespace.
    prctl::set_dumpable(false).map_err(Error::sys("prctl(PR_SET_DUMPABLE)"))?;
    // The child joins the v1 hierarchies itself, at once, while box goes on with its steps
    // (or at its end, when box makes them after "go").
    let cgroup_join = running
        .cgroup
        .as_ref()
        .filter(|_| !layers.v1_join.after_go())
        .map(|cg| cg.self_join())
        .transpose()?;
    let saved = Saved::before_joins(spec)?;
    layers.namespaces.enter_for_children()?;
    let opts = CloneOptions {
        flags: layers.namespaces.clone_flags(),
        into_cgroup: running.cgroup.as_ref().and_then(|cg| cg.v2_fd()),
        pidfd: true,
    };
    // SAFETY: box is single-threaded when it starts a container (no thread is ever started
    // before this point), so the child may allocate and run the layer crates.
    let cloned = unsafe { clone_child(opts) };
    if let Ok(Cloned::Parent { .. }) | Err(_) = &cloned {
        saved.restore()?;
    }
    let (pid, pidfd, in_cgroup) = match cloned? {
        Cloned::Child => {
            let ends = channels.into_child();
            let child = Child {
                spec,
                layers,
                cgroup_join: cgroup_join.as_ref(),
                go: ends.go,
                report: ends.report,
                tty_socket: ends.tty_socket,
                root_socket: ends.root_socket,
                cgroup_socket: ends.cgroup_socket,
                cgroup_v1: after_go.as_ref().filter(|_| layers.v1_join.after_go()),
                lifeline,
                hold,
            };
            // A panic must not unwind into box's own code in this copy of it: that would run
            // the parent's cleanup in the container's process, and drop fds the child closed.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child.run()));
            // SAFETY: _exit ends the child at once, running none of box's destructors.
            unsafe { libc::_exit(crate::exit_code::CANNOT_START) }
        }
        Cloned::Parent {
            pid,
            pidfd,
            in_cgroup,
        } => (pid, pidfd, in_cgroup),
    };
    drop((lifeline, cgroup_join));
    let mut channels = channels.into_parent();
    running.pid = pid;
    running.pidfd = pidfd;
    timer.lap(Step::Clone);
    // Parent, after the clone, before "go": each layer's step on the child.
    if let Some(maps) = &spec.user_maps {
        if layers.namespaces.after_clone(pid, &maps.uid, &maps.gid)? {
            timer.lap(Step::IdMaps);
        }
    }
    // Without CLONE_INTO_CGROUP (no clone3), the unified hierarchy is box's to join.
    if let Some(cg) = running.cgroup.as_ref().filter(|_| !in_cgroup) {
        cg.add_process_v2(pid)?;
        timer.lap(Step::CgroupJoin);
    }
    let link_after_go = network.as_ref().filter(|_| layers.link_after_go);
    if let Some(attachment) = network.as_ref().filter(|_| !layers.link_after_go) {
        attachment.attach(pid.as_raw())?;
        timer.lap(Step::NetworkAttach);
    }
    if let Some(adj) = spec.tunables.oom_score_adj {
        write_oom_score_adj(pid, adj)?;
    }
    let go = if hold.is_some() || link_after_go.is_some() || layers.policy_after_go {
        channels.go_and_keep()?
    } else {
        channels.go()?;
        None
    };
    // While the child enters its namespaces; it waits for this at its root filesystem step.
    let mut sent = Ok(());
    if let (Some(overlay), Some(socket)) = (made_root, channels.root_socket.take()) {
        // Sent, or nothing to send: the end of the socket tells the child to make it.
        let outcome = unless_child_gone(crate::overlay_root::send(
            spec,
            overlay,
            pid,
            socket.as_fd(),
        ))?;
        drop(socket);
        sent = sent.and(outcome);
        timer.lap(Step::RootfsDirs);
    }
    // While the child builds its root: it waits for this byte at its network step.
    if let (Some(attachment), Some(go)) = (link_after_go, &go) {
        attachment.attach(pid.as_raw())?;
        timer.lap(Step::NetworkAttach);
        // A child that failed before has closed its end (EPIPE): its report says why.
        sent = sent.and(crate::channels::link_ready(go));
    }
    if let Some(prepared) = after_go {
        let socket = channels.cgroup_socket.take();
        sent = sent.and(cgroup::after_go(
            layers,
            prepared,
            go.as_ref(),
            socket,
            running,
            timer,
        )?);
    }
    if hold.is_some() {
        running.release = go;
    }
    if let Some(socket) = &channels.tty_socket {
        running.tty_master = crate::tty::receive_master(socket.as_fd())?;
    }
    let report = channels.read_report()?;
    timer.rows.extend(report.timings);
    timer.last = Instant::now();
    match report.failure {
        Some(failure) => Err(failure),
        None if sent.is_err() => sent,
        // Held, it must have said so; EOF alone means it died.
        None if hold.is_some() && !report.ready => Err(Error::ChildVanished),
        None => {
            timer.lap(Step::Exec);
            Ok(())
        }
    }
}

/// A message to the child that could not be sent because the child failed before (it
/// closed its end: `EPIPE`, `ECONNRESET`) is the start's outcome, after its report says why;
/// any other failure ends the start at once (the child, waiting for it, is killed).
pub(crate) fn unless_child_gone(sent: Result<(), Error>) -> Result<Result<(), Error>, Error> {
    match sent {
        Err(
            e @ Error::Sys {
                errno: Errno::EPIPE | Errno::ECONNRESET,
                ..
            },
        ) => Ok(Err(e)),
        Err(e) => Err(e),
        Ok(()) => Ok(Ok(())),
    }
}

/// The fds to pass on must be open: a gap would let one of box's own (a pipe, a lock) take
/// that number and reach the container. (The caller checks before it opens anything of its
/// own; this catches a caller that did not.)
fn check_preserved_fds(count: u32) -> Result<(), Error> {
    for fd in 3..3u32.saturating_add(count) {
        let fd =
            i32::try_from(fd).map_err(|_| Error::InvalidSpec("too many fds to pass on".into()))?;
        // SAFETY: F_GETFD only reads the flags of an fd of this process.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Error::InvalidSpec(format!(
                "fd {fd} is to be passed on to the container, and it is not open"
            )));
        }
    }
    Ok(())
}

/// Through the host's `/proc`, before "go": the child runs nothing of its own yet.
fn write_oom_score_adj(pid: nix::unistd::Pid, adj: i32) -> Result<(), Error> {
    std::fs::write(format!("/proc/{pid}/oom_score_adj"), adj.to_string()).map_err(|e| {
        Error::sys("write oom_score_adj")(nix::errno::Errno::from_raw(
            e.raw_os_error().unwrap_or(0),
        ))
    })
}

pub(crate) struct Timer {
    on: bool,
    last: Instant,
    rows: Vec<Timing>,
}

impl Timer {
    fn new(on: bool) -> Timer {
        Timer {
            on,
            last: Instant::now(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn lap(&mut self, step: Step) {
        if self.on {
            self.rows.push(Timing {
                step,
                elapsed: self.last.elapsed(),
            });
            self.last = Instant::now();
        }
    }
}
