//! Where the host mounts its cgroup hierarchies and which controllers each one has.

mod controller;
mod mountinfo;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use controller::Controller;

use crate::error::{errno_of, Error};
use crate::fs;

/// How the host uses cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only v1 hierarchies, one per controller (or per group of co-mounted controllers).
    V1,
    /// Only the unified (cgroup2) hierarchy.
    V2,
    /// v1 controller hierarchies plus a cgroup2 mount (systemd's "hybrid"), usually with no
    /// controllers of its own.
    Hybrid,
}

/// Where one controller lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location<'a> {
    /// On the v1 hierarchy mounted here.
    V1(&'a Path),
    /// On the unified hierarchy mounted here.
    V2(&'a Path),
}

/// The host's cgroup layout: the v1 mount of each controller, the cgroup2 mount, and the
/// controllers that the cgroup2 root offers (`cgroup.controllers`). A controller is in at most
/// one place: the kernel binds it to v2 only when no v1 hierarchy has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    v1: BTreeMap<Controller, PathBuf>,
    v2: Option<PathBuf>,
    v2_controllers: BTreeSet<Controller>,
}

impl Layout {
    /// Detect the layout of this process's mount namespace from `/proc/self/mountinfo`, and
    /// read the cgroup2 root's `cgroup.controllers`.
    pub fn detect() -> Result<Layout, Error> {
        let path = Path::new("/proc/self/mountinfo");
        let text = std::fs::read_to_string(path).map_err(|e| Error::ReadMountinfo {
            path: path.to_path_buf(),
            errno: errno_of(&e),
        })?;
        let mut layout = Layout::from_mountinfo(&text)?;
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    /// The layout described by mountinfo text. Pure: the v2 controller set is left empty;
    /// [`Layout::load_v2_controllers`] fills it. A hierarchy mounted several times is taken
    /// from its first mount of the whole hierarchy (root `/`), else its first mount.
    pub fn from_mountinfo(text: &str) -> Result<Layout, Error> {
        let mounts = mountinfo::cgroup_mounts(text)?;
        // Whole-hierarchy mounts first, then in mountinfo order.
        let mut ordered: Vec<_> = mounts.iter().filter(|m| m.root == Path::new("/")).collect();
        ordered.extend(mounts.iter().filter(|m| m.root != Path::new("/")));
        let mut v1 = BTreeMap::new();
        let mut v2 = None;
        for m in ordered {
            match &m.v1_controllers {
                None => {
                    v2.get_or_insert_with(|| m.mount_point.clone());
                }
                Some(set) => {
                    for c in set {
                        v1.entry(*c).or_insert_with(|| m.mount_point.clone());
                    }
                }
            }
        }
        if v1.is_empty() && v2.is_none() {
            return Err(Error::NoCgroupMounts);
        }
        Ok(Layout {
            v1,
            v2,
            v2_controllers: BTreeSet::new(),
        })
    }

    /// A pure v2 layout rooted at `root` (a cgroup2 mount, or a prepared directory tree);
    /// reads `root/cgroup.controllers`.
    pub fn v2(root: PathBuf) -> Result<Layout, Error> {
        let mut layout = Layout {
            v1: BTreeMap::new(),
            v2: Some(root),
            v2_controllers: BTreeSet::new(),
        };
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    /// A pure v1 layout: the mount point of each controller's hierarchy (co-mounted
    /// controllers share a path).
    pub fn v1(mounts: BTreeMap<Controller, PathBuf>) -> Layout {
        Layout {
            v1: mounts,
            v2: None,
            v2_controllers: BTreeSet::new(),
        }
    }

    /// A hybrid layout: v1 hierarchies plus a cgroup2 root; reads `v2_root/cgroup.controllers`
    /// and drops from it any controller that a v1 hierarchy holds.
    pub fn hybrid(
        mounts: BTreeMap<Controller, PathBuf>,
        v2_root: PathBuf,
    ) -> Result<Layout, Error> {
        let mut layout = Layout {
            v1: mounts,
            v2: Some(v2_root),
            v2_controllers: BTreeSet::new(),
        };
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    /// Set the v2 controller set by hand (pure; for tests and callers that know it).
    pub fn with_v2_controllers(mut self, controllers: BTreeSet<Controller>) -> Layout {
        self.v2_controllers = controllers
            .into_iter()
            .filter(|c| !self.v1.contains_key(c))
            .collect();
        self
    }

    /// Read the cgroup2 root's `cgroup.controllers` (no-op without a cgroup2 mount).
    pub fn load_v2_controllers(&mut self) -> Result<(), Error> {
        let Some(root) = &self.v2 else {
            return Ok(());
        };
        let text = fs::read(root, "cgroup.controllers")?;
        let set = text.split_whitespace().filter_map(Controller::from_v2_name);
        self.v2_controllers = set.filter(|c| !self.v1.contains_key(c)).collect();
        Ok(())
    }

    /// V1, V2 or Hybrid.
    pub fn mode(&self) -> Mode {
        match (self.v1.is_empty(), self.v2.is_some()) {
            (false, true) => Mode::Hybrid,
            (false, false) => Mode::V1,
            (true, _) => Mode::V2,
        }
    }

    /// Mount point of each controller that has a v1 hierarchy.
    pub fn v1_mounts(&self) -> &BTreeMap<Controller, PathBuf> {
        &self.v1
    }

    /// The v1 hierarchies, each once, with the controllers it carries.
    pub fn v1_hierarchies(&self) -> Vec<(&Path, Vec<Controller>)> {
        let mut out: Vec<(&Path, Vec<Controller>)> = Vec::new();
        for (c, p) in &self.v1 {
            match out.iter_mut().find(|(q, _)| *q == p.as_path()) {
                Some((_, list)) => list.push(*c),
                None => out.push((p.as_path(), vec![*c])),
            }
        }
        out
    }

    /// Mount point of the unified hierarchy, if cgroup2 is mounted.
    pub fn v2_root(&self) -> Option<&Path> {
        self.v2.as_deref()
    }

    /// Controllers the unified hierarchy offers (those not held by a v1 hierarchy).
    pub fn v2_controllers(&self) -> &BTreeSet<Controller> {
        &self.v2_controllers
    }

    /// Where `controller` lives, or `None` if the host does not have it. On v2, `Cpuacct`
    /// is answered by the core `cpu.stat` of every cgroup.
    pub fn location(&self, controller: Controller) -> Option<Location<'_>> {
        if let Some(p) = self.v1.get(&controller) {
            return Some(Location::V1(p));
        }
        let root = self.v2.as_deref()?;
        let on_v2 = self.v2_controllers.contains(&controller)
            || (controller == Controller::Cpuacct && !self.v1.contains_key(&Controller::Cpu));
        on_v2.then_some(Location::V2(root))
    }

    /// Whether the host has `controller` at all.
    pub fn has(&self, controller: Controller) -> bool {
        self.location(controller).is_some()
    }
}

#[cfg(test)]
mod tests;
