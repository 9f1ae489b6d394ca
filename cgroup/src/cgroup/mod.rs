//! One container's cgroup, on every hierarchy of the host.

mod create;
mod destroy;
mod freeze;
mod join;
mod lock;
mod open;
mod prepared;
mod sweep;

pub use destroy::DESTROY_TIMEOUT;
pub use freeze::FREEZE_TIMEOUT;
pub use join::SelfJoin;
pub use prepared::{check, prepare, prepare_on, Prepared};
pub use sweep::{remove_orphan, sweep_orphans, Sweep, SWEEP_TIMEOUT};

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::devices::DeviceRule;
use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::{Controller, Layout, Location};
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;
use crate::{v1, v2};

/// The controllers that take limits, each with the `Resources` field named when it is missing.
const LIMITED: [(Controller, &str); 7] = [
    (Controller::Memory, "memory"),
    (Controller::Cpu, "cpus"),
    (Controller::Cpuset, "cpuset_cpus"),
    (Controller::Pids, "pids"),
    (Controller::Io, "io_weight"),
    (Controller::Hugetlb, "hugetlb"),
    (Controller::Rdma, "rdma"),
];

/// A container's cgroup: one directory `<mount>/<path>` in every v1 hierarchy that has a
/// controller, and one in the unified hierarchy when cgroup2 is mounted. Dropping the handle
/// leaves the cgroup in place; [`Cgroup::destroy`] removes it.
///
/// A handle from [`Cgroup::create`] holds a shared `flock` on each of the directories
/// for as long as it lives (close-on-exec fds): that is what tells [`sweep_orphans`] the
/// cgroup still has an owner. Once the creating process is gone, however it died, the
/// cgroup is an orphan that the next sweep removes.
#[derive(Debug)]
pub struct Cgroup {
    layout: Layout,
    rel: PathBuf,
    /// Set when the handle is made, or by [`Prepared::complete_v1`] for a cgroup made
    /// unified-first ([`Prepared::create_unified`]).
    v1: OnceLock<Vec<V1Dir>>,
    v2: Option<V2Dir>,
    /// Whether this handle holds the locks of every directory.
    owner: bool,
}

#[derive(Debug)]
struct V1Dir {
    controllers: Vec<Controller>,
    dir: Dir,
    /// The locked directory fd when this handle owns the cgroup (also what
    /// [`Cgroup::own_directories`] hands out).
    lock: Option<OwnedFd>,
}

#[derive(Debug)]
struct V2Dir {
    dir: Dir,
    /// Also the lock when this handle owns the cgroup.
    fd: OwnedFd,
}

/// Which hierarchy a directory of [`Cgroup::paths`] belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hierarchy {
    /// A v1 hierarchy with these controllers.
    V1(Vec<Controller>),
    /// The cgroup2 hierarchy.
    Unified,
}

/// One directory of a container's cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    pub hierarchy: Hierarchy,
    /// Absolute path of the directory, e.g. `/sys/fs/cgroup/memory/box/web`.
    pub dir: PathBuf,
}

/// Which parts of a device policy a creation installs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Devices {
    /// The v1 files and the cgroup2 program.
    All,
    /// The v1 files; the program is attached later, in one step.
    V1Only,
}

/// Which of a cgroup's hierarchies a step of its creation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    All,
    /// The cgroup2 hierarchy only.
    Unified,
    /// The v1 hierarchies only.
    V1,
}

impl Part {
    pub(crate) fn has_v1(self) -> bool {
        self != Part::Unified
    }

    pub(crate) fn has_unified(self) -> bool {
        self != Part::V1
    }

    /// Whether a controller at `location` is this part's (one the host lacks is every
    /// part's, to be refused by whichever runs).
    fn covers(self, location: Option<Location<'_>>) -> bool {
        match location {
            Some(Location::V1(_)) => self.has_v1(),
            Some(Location::V2(_)) => self.has_unified(),
            None => true,
        }
    }
}

impl Cgroup {
    /// Create `path` (e.g. `box/web`, relative to each hierarchy's root — never to the
    /// caller's own cgroup) on every hierarchy of `layout`, enable the v2 controllers it
    /// needs in the parents' `cgroup.subtree_control`, fill v1 cpusets from the parent, and
    /// write the limits of `res`. Fails if the cgroup already exists; on failure, whatever
    /// was created is removed again.
    pub fn create(layout: &Layout, path: &Path, res: &Resources) -> Result<Cgroup, Error> {
        Cgroup::build(layout, path, res, Devices::All, Part::All)
    }

    /// [`Cgroup::create`] on the hierarchies of `part`, with the device policy installed as
    /// `devices` says.
    pub(crate) fn build(
        layout: &Layout,
        path: &Path,
        res: &Resources,
        devices: Devices,
        part: Part,
    ) -> Result<Cgroup, Error> {
        let mut cg = Cgroup {
            layout: layout.clone(),
            rel: create::normalize(path)?,
            v1: OnceLock::new(),
            v2: None,
            owner: true,
        };
        let built = cg
            .make_dirs(res, part)
            .and_then(|()| cg.apply_with(res, devices, part));
        match built {
            Ok(()) => Ok(cg),
            Err(e) => {
                // Nothing ran in it yet; best effort, the first error is the one to report.
                let _ = cg.remove_dirs();
                Err(e)
            }
        }
    }

    /// Whether this handle owns the cgroup, i.e. holds the locks that keep
    /// [`sweep_orphans`] away: true for handles from [`Cgroup::create`], false from
    /// [`Cgroup::open`].
    pub fn is_owner(&self) -> bool {
        self.owner
    }

    /// The cgroup path relative to each hierarchy's root, e.g. `box/web`.
    pub fn path(&self) -> &Path {
        &self.rel
    }

    /// Every directory of this cgroup, v1 hierarchies first (for `box inspect`).
    pub fn paths(&self) -> Vec<CgroupDir> {
        let v1 = self.v1().iter().map(|d| CgroupDir {
            hierarchy: Hierarchy::V1(d.controllers.clone()),
            dir: d.dir.path().to_path_buf(),
        });
        let v2 = self.v2.iter().map(|d| CgroupDir {
            hierarchy: Hierarchy::Unified,
            dir: d.dir.path().to_path_buf(),
        });
        v1.chain(v2).collect()
    }

    /// The directory holding `controller`'s files for this container, if the host has it.
    pub fn dir_of(&self, controller: Controller) -> Option<&Path> {
        let limited = self.target(controller).map(|(_, dir)| dir.path());
        // v1 devices has no `Subsystem` (the policy is applied on its own).
        limited.or_else(|| self.v1_dir(controller).map(|d| d.path()))
    }

    /// An `O_DIRECTORY|O_CLOEXEC` fd of the unified-hierarchy directory, for
    /// `clone3(CLONE_INTO_CGROUP)`; `None` on a host without cgroup2.
    pub fn v2_fd(&self) -> Option<BorrowedFd<'_>> {
        self.v2.as_ref().map(|d| d.fd.as_fd())
    }

    /// The container's directory on each hierarchy, as the handle that made the cgroup holds
    /// it (the fd it locked), with that hierarchy's mount point: the v1 ones in the layout's
    /// order, then the unified one. `None` from a handle that did not make it. For a caller
    /// that shows a container its own cgroups by binding these directories (box's launcher
    /// does, for the container's `/sys/fs/cgroup` on a hybrid host): a bind made from an fd is
    /// the mount layer's, not this crate's.
    pub fn own_directories(&self) -> Option<Vec<(&Path, BorrowedFd<'_>)>> {
        let mut out = Vec::new();
        for d in self.v1() {
            out.push((d.dir.mount_point(), d.lock.as_ref()?.as_fd()));
        }
        if let Some(d) = &self.v2 {
            out.push((d.dir.mount_point(), d.fd.as_fd()));
        }
        Some(out)
    }

    /// Move process `pid` (its whole thread group) into this cgroup on every hierarchy.
    /// Idempotent: a process already there (e.g. via `CLONE_INTO_CGROUP`) stays.
    pub fn add_process(&self, pid: Pid) -> Result<(), Error> {
        let text = pid.as_raw().to_string();
        for d in self.v1() {
            fs::write(&d.dir, "cgroup.procs", &text)?;
        }
        self.add_process_v2(pid)
    }

    /// The processes in this cgroup (the union over its hierarchies).
    pub fn procs(&self) -> Result<Vec<Pid>, Error> {
        let mut all = Vec::new();
        for dir in self.leaf_dirs() {
            all.extend(fs::procs(dir)?);
        }
        all.sort_unstable();
        all.dedup();
        Ok(all.into_iter().map(Pid::from_raw).collect())
    }

    /// Write the limits set in `res` (unset fields are left as they are). [`Cgroup::create`]
    /// already did this; call it to change limits of a running container. On v2 a controller
    /// not enabled at creation cannot be added here. A device policy replaces the one in
    /// force (on v1, everything is denied for the instant between `devices.deny` and the
    /// allows; on v2 the new program is attached before the old one is detached).
    pub fn apply(&self, res: &Resources) -> Result<(), Error> {
        self.apply_with(res, Devices::All, Part::All)
    }

    fn apply_with(&self, res: &Resources, devices: Devices, part: Part) -> Result<(), Error> {
        for (controller, field) in LIMITED {
            if !part.covers(self.layout.location(controller)) {
                continue;
            }
            match self.target(controller) {
                Some((sub, dir)) if sub.wanted(res) => sub.apply(dir, res)?,
                Some(_) => {}
                None if wanted(controller, res) => {
                    return Err(Error::Unsupported {
                        field,
                        reason: format!("this host has no {controller} cgroup controller"),
                    })
                }
                None => {}
            }
        }
        match (&res.devices, devices) {
            (Some(rules), Devices::All) => self.apply_devices(rules)?,
            (Some(rules), Devices::V1Only) => {
                if let Some(dir) = self.v1_dir(Controller::Devices) {
                    crate::devices::apply(Some(dir), None, rules)?;
                }
            }
            (None, _) => {}
        }
        // Last, so that a raw value is what stays when it sets a file a field also sets.
        if !res.unified.is_empty() && part.has_unified() {
            let Some(d) = &self.v2 else {
                return Err(Error::Unsupported {
                    field: "unified",
                    reason: "this host has no cgroup2 hierarchy".into(),
                });
            };
            for (file, value) in &res.unified {
                fs::write(&d.dir, file, value)?;
            }
        }
        Ok(())
    }

    /// Installs a device policy of `rules`, replacing the one in force (see [`Cgroup::apply`]).
    pub fn apply_devices(&self, rules: &[DeviceRule]) -> Result<(), Error> {
        let v2 = self.v2.as_ref().map(|d| (d.fd.as_fd(), d.dir.path()));
        crate::devices::apply(self.v1_dir(Controller::Devices), v2, rules)
    }

    /// Attaches the cgroup2 program of `rules` (only): whether there is a cgroup2
    /// directory to attach it to.
    pub(crate) fn attach_device_program(&self, rules: &[DeviceRule]) -> Result<bool, Error> {
        let Some(d) = &self.v2 else {
            return Ok(false);
        };
        crate::devices::apply(None, Some((d.fd.as_fd(), d.dir.path())), rules)?;
        Ok(true)
    }

    /// The limits as the kernel shows them in this cgroup's files.
    pub fn read_limits(&self) -> Result<Limits, Error> {
        let mut out = Limits::default();
        for (controller, _) in LIMITED {
            if let Some((sub, dir)) = self.target(controller) {
                sub.read_limits(dir, &mut out)?;
            }
        }
        if let Some(dir) = self.v1_dir(Controller::Devices) {
            out.devices = Some(v1::devices::read(dir)?);
        }
        Ok(out)
    }

    /// Current usage: memory, CPU time and throttling, tasks, IO bytes, OOM kills.
    pub fn stats(&self) -> Result<Stats, Error> {
        let mut out = Stats::default();
        for sub in v1::SUBSYSTEMS {
            if let Some(d) = self.v1_dir(sub.stats_controller()) {
                sub.stats(d, &mut out)?;
            }
        }
        if let Some(d) = &self.v2 {
            for sub in v2::SUBSYSTEMS {
                if matches!(
                    self.layout.location(sub.stats_controller()),
                    Some(Location::V2(_))
                ) {
                    sub.stats(&d.dir, &mut out)?;
                }
            }
        }
        Ok(out)
    }

    /// Whether the kernel OOM-killed a process of this cgroup: the `oom_kill` counter of v2
    /// `memory.events` or v1 `memory.oom_control`; on v1 kernels older than 4.13, whether
    /// `memory.failcnt` shows the limit was hit.
    pub fn oom_killed(&self) -> Result<bool, Error> {
        let Some((sub, dir)) = self.target(Controller::Memory) else {
            return Ok(false);
        };
        match sub.oom_kills(dir)? {
            Some(n) => Ok(n > 0),
            None => Ok(fs::read_u64_opt(dir, "memory.failcnt")?.is_some_and(|n| n > 0)),
        }
    }

    /// The subsystem module and directory that hold `controller`'s limits.
    fn target(&self, controller: Controller) -> Option<(&'static dyn Subsystem, &Dir)> {
        let find = |list: &[&'static dyn Subsystem]| {
            list.iter().copied().find(|s| s.controller() == controller)
        };
        if let Some(dir) = self.v1_dir(controller) {
            return find(&v1::SUBSYSTEMS).map(|s| (s, dir));
        }
        match (self.layout.location(controller), &self.v2) {
            (Some(Location::V2(_)), Some(d)) => find(&v2::SUBSYSTEMS).map(|s| (s, &d.dir)),
            _ => None,
        }
    }

    fn v1_dir(&self, controller: Controller) -> Option<&Dir> {
        let d = self
            .v1()
            .iter()
            .find(|d| d.controllers.contains(&controller))?;
        Some(&d.dir)
    }

    /// The v1 directories made so far (none yet for a cgroup made unified-first).
    fn v1(&self) -> &[V1Dir] {
        self.v1.get().map_or(&[], Vec::as_slice)
    }

    /// Takes the directories of `part`, a creation of [`Part::V1`], as this cgroup's, made
    /// unified-first. A cgroup that has its v1 directories already keeps them: `part`'s are
    /// removed again.
    fn adopt_v1(&self, part: Cgroup) -> Result<(), Error> {
        let dirs = part.v1.into_inner().unwrap_or_default();
        match self.v1.set(dirs) {
            Ok(()) => Ok(()),
            Err(dirs) if dirs.is_empty() => Ok(()),
            Err(dirs) => {
                for d in &dirs {
                    let _ = fs::rmdir(&d.dir);
                }
                Err(Error::Exists {
                    path: self.rel.clone(),
                })
            }
        }
    }

    fn leaf_dirs(&self) -> impl Iterator<Item = &Dir> {
        let v1 = self.v1().iter().map(|d| &d.dir);
        v1.chain(self.v2.iter().map(|d| &d.dir))
    }
}

/// Whether `res` sets anything for `controller` (same answer on both versions).
fn wanted(controller: Controller, res: &Resources) -> bool {
    let by_field = v2::SUBSYSTEMS
        .iter()
        .any(|s| s.controller() == controller && s.wanted(res));
    by_field || res.unified_controllers().any(|c| c == controller)
}

#[cfg(test)]
mod split_tests;
#[cfg(test)]
mod tests;
