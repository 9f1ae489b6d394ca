//! The cgroup layer's part in starting a container, in the shape every box layer has:
//! [`prepare`] in the parent before the clone (detect the layout, check the limits against
//! it: nothing is created), then [`Prepared::create`], the one step of any layer that makes
//! something on the host before the clone — the caller owns the [`Cgroup`] and removes it when
//! the start fails or the container ends — and [`Cgroup::add_process`] after the clone.

use std::path::{Path, PathBuf};

use super::{remove_orphan, sweep_orphans, Cgroup, Sweep};
use crate::error::Error;
use crate::layout::Layout;
use crate::resources::Resources;

/// What [`prepare`] refuses, for a front end validating a configuration: the limits this host
/// cannot take, each naming its `Resources` field.
pub fn check(resources: &Resources) -> Result<(), Error> {
    resources.validate(&Layout::detect()?)?;
    Ok(())
}

/// Detects the host's layout and checks `resources` against it.
pub fn prepare(path: &Path, resources: &Resources) -> Result<Prepared, Error> {
    let layout = Layout::detect()?;
    resources.validate(&layout)?;
    Ok(Prepared {
        layout,
        path: path.to_path_buf(),
        resources: resources.clone(),
    })
}

/// A cgroup ready to be created.
#[derive(Debug)]
pub struct Prepared {
    layout: Layout,
    path: PathBuf,
    resources: Resources,
}

impl Prepared {
    /// The host's layout, as detected.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Creates the cgroup with its limits. Cgroups of boxes that died without removing theirs
    /// are swept from its parent first ([`Prepared::sweep`]).
    pub fn create(&self) -> Result<Cgroup, Error> {
        let _ = self.sweep();
        self.create_unswept()
    }

    /// Creates the cgroup with its limits, sweeping nothing: the caller sweeps the parent
    /// later ([`Prepared::sweep`]), say while the container's process sets itself up. An
    /// orphan of this very name is removed and the creation tried again.
    pub fn create_unswept(&self) -> Result<Cgroup, Error> {
        match Cgroup::create(&self.layout, &self.path, &self.resources) {
            Err(Error::Exists { .. }) if remove_orphan(&self.layout, &self.path)? => {
                Cgroup::create(&self.layout, &self.path, &self.resources)
            }
            created => created,
        }
    }

    /// Removes the cgroups of boxes that died without removing theirs from this cgroup's
    /// parent (best effort: a stuck orphan must not stop a start; see [`sweep_orphans`]).
    /// Nothing when the cgroup sits at a hierarchy's root.
    pub fn sweep(&self) -> Option<Sweep> {
        let parent = self.path.parent().filter(|p| !p.as_os_str().is_empty())?;
        Some(sweep_orphans(&self.layout, parent))
    }
}
