//! Where the host mounts its cgroup hierarchies and which controllers each one has.

mod controller;
pub mod mountinfo;
mod roots;
mod visible;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use controller::Controller;
pub(crate) use roots::{Expectations, Roots};

use crate::error::Error;
use crate::fs::{self, Expected};

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
///
/// **Verified or given.** Every control file is reached through a directory fd of its
/// hierarchy's root, and below it by plain names without following symlinks. A layout read
/// from mountinfo ([`Layout::detect`], [`Layout::from_mountinfo`]) also checks each root when
/// it opens it: reached without symlinks, a cgroup filesystem of the right version
/// (`fstatfs`: `CGROUP_SUPER_MAGIC` or `CGROUP2_SUPER_MAGIC`) and the very mount mountinfo
/// lists (its device); [`Layout::is_verified`] is true. A layout given by the caller
/// ([`Layout::v1`], [`Layout::v2`], [`Layout::hybrid`]: prepared directory trees in tests,
/// or hierarchies another program found) is taken as given: its roots are not checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layout {
    v1: BTreeMap<Controller, PathBuf>,
    v2: Option<PathBuf>,
    v2_controllers: BTreeSet<Controller>,
    /// What each mount point must be, from mountinfo; `None` for a layout the caller gave.
    expected: Option<Box<Expectations>>,
    /// The roots, open and checked by `detect`; any other layout opens them for each cgroup
    /// operation (a caller's prepared tree may change).
    #[serde(skip)]
    roots: Option<Roots>,
}

impl PartialEq for Layout {
    fn eq(&self, other: &Layout) -> bool {
        (&self.v1, &self.v2, &self.v2_controllers, &self.expected)
            == (&other.v1, &other.v2, &other.v2_controllers, &other.expected)
    }
}

impl Eq for Layout {}

impl Layout {
    /// Detect the layout of this thread's mount namespace from its mountinfo, open and check
    /// every hierarchy's root (see [`Layout`]), and read the cgroup2 root's
    /// `cgroup.controllers`. Mounts that are mounted over are not seen.
    pub fn detect() -> Result<Layout, Error> {
        let text = mountinfo::read()?;
        let mut layout = Layout::from_mountinfo(&text)?;
        layout.roots = Some(layout.open_roots()?);
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    /// The layout described by mountinfo text, counting only the mounts that are visible (a
    /// mount whose mount point, or a directory above it, was mounted over is hidden). Pure:
    /// nothing is opened yet and the v2 controller set is left empty;
    /// [`Layout::load_v2_controllers`] fills it. A hierarchy mounted several times is taken
    /// from its first mount of the whole hierarchy (root `/`), else its first mount.
    pub fn from_mountinfo(text: &str) -> Result<Layout, Error> {
        let mounts = mountinfo::cgroup_mounts(text)?;
        // Whole-hierarchy mounts first, then in mountinfo order.
        let mut ordered: Vec<_> = mounts.iter().filter(|m| m.root == Path::new("/")).collect();
        ordered.extend(mounts.iter().filter(|m| m.root != Path::new("/")));
        let mut v1 = BTreeMap::new();
        let mut v2 = None;
        let mut expected = BTreeMap::new();
        for m in ordered {
            let mut used = false;
            match &m.v1_controllers {
                None => {
                    used = v2.is_none();
                    v2.get_or_insert_with(|| m.mount_point.clone());
                }
                Some(set) => {
                    for c in set {
                        used |= !v1.contains_key(c);
                        v1.entry(*c).or_insert_with(|| m.mount_point.clone());
                    }
                }
            }
            if used {
                let v2 = m.v1_controllers.is_none();
                let check = Expected { v2, dev: m.dev };
                expected.insert(m.mount_point.clone(), check);
            }
        }
        if v1.is_empty() && v2.is_none() {
            return Err(Error::NoCgroupMounts);
        }
        Ok(Layout {
            v1,
            v2,
            v2_controllers: BTreeSet::new(),
            expected: Some(Box::new(Expectations(expected))),
            roots: None,
        })
    }

    /// A pure v2 layout rooted at `root` (a cgroup2 mount, or a prepared directory tree),
    /// given by the caller (not verified, see [`Layout`]); reads `root/cgroup.controllers`.
    pub fn v2(root: PathBuf) -> Result<Layout, Error> {
        let mut layout = Layout::given(BTreeMap::new(), Some(root));
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    /// A pure v1 layout given by the caller (not verified, see [`Layout`]): the mount point of
    /// each controller's hierarchy (co-mounted controllers share a path).
    pub fn v1(mounts: BTreeMap<Controller, PathBuf>) -> Layout {
        Layout::given(mounts, None)
    }

    /// A hybrid layout given by the caller (not verified, see [`Layout`]): v1 hierarchies
    /// plus a cgroup2 root; reads `v2_root/cgroup.controllers` and drops from it any
    /// controller that a v1 hierarchy holds.
    pub fn hybrid(
        mounts: BTreeMap<Controller, PathBuf>,
        v2_root: PathBuf,
    ) -> Result<Layout, Error> {
        let mut layout = Layout::given(mounts, Some(v2_root));
        layout.load_v2_controllers()?;
        Ok(layout)
    }

    fn given(v1: BTreeMap<Controller, PathBuf>, v2: Option<PathBuf>) -> Layout {
        Layout {
            v1,
            v2,
            v2_controllers: BTreeSet::new(),
            expected: None,
            roots: None,
        }
    }

    /// Whether this layout came from mountinfo, so that every hierarchy root is checked to be
    /// the cgroup filesystem mounted there before anything is read or written through it.
    /// False for a layout given by the caller ([`Layout::v1`], [`Layout::v2`],
    /// [`Layout::hybrid`]).
    pub fn is_verified(&self) -> bool {
        self.expected.is_some()
    }

    /// Set the v2 controller set by hand (pure; for tests and callers that know it).
    pub fn with_v2_controllers(mut self, controllers: BTreeSet<Controller>) -> Layout {
        self.v2_controllers = controllers
            .into_iter()
            .filter(|c| !self.v1.contains_key(c))
            .collect();
        self
    }

    /// Read the cgroup2 root's `cgroup.controllers` through its root, opened (and, for a
    /// layout from mountinfo, checked) for that if this layout does not hold it (nothing to
    /// read without a cgroup2 mount).
    pub fn load_v2_controllers(&mut self) -> Result<(), Error> {
        let Some(root) = &self.v2 else {
            return Ok(());
        };
        let roots = match &self.roots {
            Some(roots) => roots.clone(),
            None => Roots::open(&[root.as_path()], self.expected.as_deref())?,
        };
        let text = fs::read(&roots.dir(root)?, "cgroup.controllers")?;
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

    /// The hierarchy roots, open: those this layout holds, else freshly opened.
    pub(crate) fn roots(&self) -> Result<Roots, Error> {
        match &self.roots {
            Some(roots) => Ok(roots.clone()),
            None => self.open_roots(),
        }
    }

    /// Every mount point of this layout, each once: v1 hierarchies, then cgroup2.
    pub(crate) fn mount_points(&self) -> Vec<&Path> {
        let v1 = self.v1_hierarchies().into_iter().map(|(p, _)| p);
        v1.chain(self.v2.as_deref()).collect()
    }

    fn open_roots(&self) -> Result<Roots, Error> {
        Roots::open(&self.mount_points(), self.expected.as_deref())
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod visible_tests;
