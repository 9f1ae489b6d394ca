//! The cgroup's part of the start: prepared before anything is made, created before the
//! clone (on a hybrid host its unified directory only), and what comes after "go": a hybrid
//! host's v1 part, the cgroup2 device program, the sweep of dead boxes' cgroups.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use box_cgroup::{Cgroup, SelfJoin};
use box_ns::{Kind, Mode};

use super::{unless_child_gone, CgroupPlan, Prepared, Timer, V1Join};
use crate::protocol::Step;
use crate::running::Running;
use crate::{Error, Spec};

/// The cgroup to be, before anything is made.
pub(super) enum PreparedCgroup {
    None,
    Create(box_cgroup::Prepared),
    Keep(box_cgroup::Prepared),
    Join(Cgroup),
}

pub(super) fn prepare_cgroup(spec: &Spec, plan: CgroupPlan) -> Result<PreparedCgroup, Error> {
    Ok(match (plan, &spec.cgroup) {
        (CgroupPlan::Join(cg), _) => PreparedCgroup::Join(cg),
        (CgroupPlan::Create, Some(cg)) => PreparedCgroup::Create(prepare_cgroup_of(cg)?),
        (CgroupPlan::Keep, Some(cg)) => PreparedCgroup::Keep(prepare_cgroup_of(cg)?),
        (CgroupPlan::Create | CgroupPlan::Keep, None) => PreparedCgroup::None,
    })
}

/// `cg` on the layout the front end detected, else on this host's, detected now.
fn prepare_cgroup_of(cg: &crate::CgroupSpec) -> Result<box_cgroup::Prepared, Error> {
    Ok(match &cg.layout {
        Some(layout) => box_cgroup::prepare_on(layout, &cg.path, &cg.resources)?,
        None => box_cgroup::prepare(&cg.path, &cg.resources)?,
    })
}

impl PreparedCgroup {
    /// The host's layout, for a cgroup this start creates.
    pub(super) fn layout(&self) -> Option<&box_cgroup::Layout> {
        match self {
            PreparedCgroup::Create(p) | PreparedCgroup::Keep(p) => Some(p.layout()),
            PreparedCgroup::None | PreparedCgroup::Join(_) => None,
        }
    }
}

/// Creates the cgroup (or takes the one to join) and decides what of it comes after "go"
/// (`layers`' flags): the prepared cgroup that [`after_go`] completes, if any.
pub(super) fn create(
    spec: &Spec,
    layers: &mut Prepared,
    cgroup: PreparedCgroup,
    running: &mut Running,
    timer: &mut Timer,
) -> Result<Option<box_cgroup::Prepared>, Error> {
    let mut after_go = None;
    let created = match (cgroup, &spec.cgroup) {
        (PreparedCgroup::Create(prepared), _) => {
            layers.v1_join = match (prepared.splits(), spec.namespaces.mode(Kind::Cgroup)) {
                (true, Mode::Host) => V1Join::AtEnd,
                (true, Mode::New) if cgroupfs_may_come_last(spec, layers) => V1Join::InRoot,
                _ => V1Join::First,
            };
            let created = match layers.v1_join.after_go() {
                true => prepared.create_unified()?,
                false => prepared.create_deferred()?,
            };
            layers.policy_after_go = prepared.defers_devices();
            after_go = Some(prepared);
            Some(created)
        }
        (PreparedCgroup::Keep(prepared), Some(cg)) => Some(box_cgroup::Cgroup::create(
            prepared.layout(),
            &cg.path,
            &cg.resources,
        )?),
        (PreparedCgroup::Join(cg), _) => {
            running.cgroup = Some(Arc::new(cg));
            None
        }
        _ => None,
    };
    match created {
        None => {}
        Some(created) => {
            let own = Arc::new(created);
            running.undo.push(own.clone());
            running.cgroup = Some(own);
            running.owns_cgroup = true;
            timer.lap(Step::Cgroup);
        }
    }
    Ok(after_go)
}

/// Whether the child's root step mounts the root's `/sys/fs/cgroup` last, so that a child
/// with a cgroup namespace of its own may join its cgroups and unshare the namespace just
/// before: no createContainer hook runs in the root step, and nothing else of the root is
/// under that path.
fn cgroupfs_may_come_last(spec: &Spec, layers: &Prepared) -> bool {
    let rootfs = layers.rootfs.as_ref();
    spec.tunables.create_container.is_empty()
        && rootfs.is_some_and(box_rootfs::Prepared::cgroupfs_may_come_last)
}

/// After "go", while the child builds its root: a hybrid host's v1 part and its `tasks` fds
/// (`socket`), the device program and its "d" (`go`), in the order [`V1Join`] says, then the
/// sweep. What could not be sent because the child is gone is the `Ok` value: its report
/// says why.
pub(super) fn after_go(
    layers: &Prepared,
    prepared: box_cgroup::Prepared,
    go: Option<&OwnedFd>,
    socket: Option<OwnedFd>,
    running: &Running,
    timer: &mut Timer,
) -> Result<Result<(), Error>, Error> {
    let mut sent = Ok(());
    let Some(cg) = &running.cgroup else {
        return Ok(sent);
    };
    let join = match layers.v1_join.after_go() {
        true => {
            let join = prepared.complete_v1(cg)?;
            timer.lap(Step::CgroupV1);
            Some(join)
        }
        false => None,
    };
    let send_v1 = |join: Option<&SelfJoin>| match (join, &socket) {
        (Some(join), Some(socket)) => {
            unless_child_gone(crate::cgroup_v1::send(join, socket.as_fd()))
        }
        _ => Ok(Ok(())),
    };
    // The device program, installed once (whether it was, once it is): early while the
    // child still builds its root, else before the word the child waits for at its end.
    let mut policy = None;
    let install = |timer: &mut Timer| -> Result<bool, Error> {
        let installed = prepared.apply_devices(cg)?;
        if installed {
            timer.lap(Step::DevicePolicy);
        }
        Ok(installed)
    };
    if layers.v1_join == V1Join::InRoot {
        sent = sent.and(send_v1(join.as_ref())?);
        if let (Some(socket), Ok(())) = (&socket, &sent) {
            // While the child still builds its root box would only wait for its asking.
            if go.is_some() && !crate::cgroup_v1::asked(socket.as_fd()) {
                policy = Some(install(timer)?);
            }
            // Once the child's other mounts are made, while it enters its root: its root's
            // /sys/fs/cgroup.
            let view = layers
                .rootfs
                .as_ref()
                .and_then(|r| r.config().cgroupfs.as_ref());
            let made = crate::cgroup_v1::send_view(cg, view, socket.as_fd());
            sent = sent.and(unless_child_gone(made)?);
            timer.lap(Step::CgroupView);
        }
    }
    // Before the child execs: it waits for this after its last step of its own.
    if let Some(go) = go {
        let installed = match policy {
            Some(installed) => installed,
            None => install(timer)?,
        };
        if installed && layers.v1_join != V1Join::AtEnd {
            sent = sent.and(crate::channels::policy_ready(go));
        }
    }
    if layers.v1_join == V1Join::AtEnd {
        sent = sent.and(send_v1(join.as_ref())?);
    }
    // Best effort, as always: a stuck orphan must not fail this start.
    let _ = prepared.sweep();
    timer.lap(Step::CgroupSweep);
    Ok(sent)
}
