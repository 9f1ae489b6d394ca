//! The cgroup layer's part in starting a container, in the shape every box layer has:
//! [`prepare`] in the parent before the clone (detect the layout, check the limits against
//! it: nothing is created), then [`Prepared::create`], the one step of any layer that makes
//! something on the host before the clone — the caller owns the [`Cgroup`] and removes it when
//! the start fails or the container ends — and [`Cgroup::add_process`] after the clone.

use std::path::{Path, PathBuf};

use super::{remove_orphan, sweep_orphans, Cgroup, Devices, Sweep};
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

    /// Creates the cgroup with its limits and device policy. Cgroups of boxes that died
    /// without removing theirs are swept from its parent first ([`Prepared::sweep`]).
    pub fn create(&self) -> Result<Cgroup, Error> {
        let _ = self.sweep();
        self.make(&self.resources, Devices::All)
    }

    /// Creates the cgroup with its limits but without its cgroup2 device program, and
    /// sweeps nothing: the two parts of a creation that can overlap the container's process
    /// setting itself up. The caller attaches the program ([`Prepared::apply_devices`])
    /// before anything it is to govern runs in the cgroup, and sweeps the parent
    /// ([`Prepared::sweep`]) when it likes. Until then the cgroup's processes have the
    /// parent's device access, or the policy itself where the host has the v1 devices
    /// controller: those files are written here, at once, because writing them is not one
    /// step (everything is denied between `devices.deny` and the allows), which would fail
    /// a process opening a device meanwhile.
    pub fn create_deferred(&self) -> Result<Cgroup, Error> {
        let devices = match self.defers_devices() {
            true => Devices::V1Only,
            false => Devices::All,
        };
        self.make(&self.resources, devices)
    }

    /// Attaches the cgroup2 device program to a cgroup from [`Prepared::create_deferred`];
    /// whether there was one to attach.
    pub fn apply_devices(&self, cgroup: &Cgroup) -> Result<bool, Error> {
        match &self.resources.devices {
            Some(rules) if self.defers_devices() => cgroup.attach_device_program(rules),
            _ => Ok(false),
        }
    }

    /// Whether [`Prepared::create_deferred`] leaves a device program for
    /// [`Prepared::apply_devices`]: there is a policy and cgroup2 to attach it to.
    pub fn defers_devices(&self) -> bool {
        self.resources.devices.is_some() && self.layout.v2_root().is_some()
    }

    /// An orphan of this very name is removed and the creation tried again.
    fn make(&self, resources: &Resources, devices: Devices) -> Result<Cgroup, Error> {
        match Cgroup::build(&self.layout, &self.path, resources, devices) {
            Err(Error::Exists { .. }) if remove_orphan(&self.layout, &self.path)? => {
                Cgroup::build(&self.layout, &self.path, resources, devices)
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
