//! `box exec`: start one more process inside a running container. It is the same start
//! sequence as the container's own, with every namespace joined instead of created, the
//! container's cgroup joined instead of made, and no root filesystem to build: joining the
//! mount namespace puts the process at the container's root.

use std::path::PathBuf;

use nix::unistd::Pid;

use box_cgroup::{Cgroup, Layout};
use box_ns::{Kind, Mode, NsConfig, NsId};

use crate::start::{launch, CgroupPlan};
use crate::Running;
use crate::{Error, Process, Spec};

/// Starts `process` in the container whose PID 1 is `pid` and which `container` describes, with
/// the container's user, capabilities, seccomp profile and no_new_privs.
pub fn exec(container: &Spec, pid: Pid, process: Process) -> Result<Running, Error> {
    let (spec, cgroup) = exec_spec(container, pid, process)?;
    launch(&spec, cgroup, None)
}

/// The spec and cgroup of a process joining the container whose PID 1 is `pid`.
pub(crate) fn exec_spec(
    container: &Spec,
    pid: Pid,
    process: Process,
) -> Result<(Spec, CgroupPlan), Error> {
    let mut spec = container.clone();
    spec.namespaces = namespaces_of(pid)?;
    spec.user_maps = None;
    spec.rootfs.console = false;
    // The container's namespaces already have them (and its /proc/sys is read-only).
    spec.tunables.sysctls.clear();
    spec.tunables.domainname = None;
    spec.process = process;
    // The container's network is there already: joined with its net namespace.
    spec.network = box_net::NetConfig {
        mode: box_net::NetMode::Joined(format!("container:{}", container.name)),
        ports: Vec::new(),
    };
    let cgroup = match &container.cgroup {
        Some(cg) => CgroupPlan::Join(Cgroup::open(&Layout::detect()?, &cg.path)?),
        // The container has no cgroup: neither does the process (nothing is made).
        None => CgroupPlan::Create,
    };
    Ok((spec, cgroup))
}

/// Every namespace of `pid` that is not the caller's own, to join.
fn namespaces_of(pid: Pid) -> Result<NsConfig, Error> {
    let mut config = NsConfig::default();
    for kind in Kind::ALL {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{kind}"));
        let mode = match (NsId::of_path(path.clone()), NsId::of_self(kind)) {
            (Ok(theirs), Ok(ours)) if theirs == ours => Mode::Host,
            (Ok(_), Ok(_)) => Mode::Join(path),
            // A kind this kernel lacks (no time namespaces before 5.6): nothing to join.
            (Err(_), Err(_)) => Mode::Host,
            (Err(e), _) | (_, Err(e)) => return Err(e.into()),
        };
        config.set(kind, mode);
    }
    Ok(config)
}
