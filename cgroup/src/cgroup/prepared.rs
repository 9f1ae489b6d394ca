//! The cgroup layer's part in starting a container, in the shape every box layer has:
//! [`prepare`] in the parent before the clone (detect the layout, check the limits against
//! it: nothing is created), then [`Prepared::create`], the one step of any layer that makes
//! something on the host before the clone — the caller owns the [`Cgroup`] and removes it when
//! the start fails or the container ends — and [`Cgroup::add_process`] after the clone.
//! A launcher that overlaps the creation with the child's own setup creates in parts:
//! [`Prepared::create_deferred`] leaves the cgroup2 device program for later, and on a hybrid
//! host [`Prepared::create_unified`] leaves the v1 hierarchies to [`Prepared::complete_v1`].

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::sweep::{remove_orphan_part, sweep_some};
use super::{create, Cgroup, Devices, Part, SelfJoin, Sweep};
use crate::error::Error;
use crate::layout::{Layout, Mode};
use crate::resources::Resources;

/// What [`prepare`] refuses, for a front end validating a configuration: the limits this host
/// cannot take, each naming its `Resources` field.
pub fn check(resources: &Resources) -> Result<(), Error> {
    resources.validate(&Layout::detect()?)?;
    Ok(())
}

/// Detects the host's layout and checks `resources` against it.
pub fn prepare(path: &Path, resources: &Resources) -> Result<Prepared, Error> {
    prepare_on(&Layout::detect()?, path, resources)
}

/// [`prepare`] on a layout the caller has (detected before, or given).
pub fn prepare_on(layout: &Layout, path: &Path, resources: &Resources) -> Result<Prepared, Error> {
    resources.validate(layout)?;
    Ok(Prepared {
        layout: layout.clone(),
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
        self.make(Devices::All, Part::All)
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
        self.make(devices, Part::All)
    }

    /// Whether the cgroup can be made in two parts ([`Prepared::create_unified`], then
    /// [`Prepared::complete_v1`]): on a hybrid host.
    pub fn splits(&self) -> bool {
        self.layout.mode() == Mode::Hybrid
    }

    /// [`Prepared::create_deferred`] on the unified hierarchy only: its directory (for
    /// `clone3(CLONE_INTO_CGROUP)`), controllers and limits. The v1 hierarchies follow with
    /// [`Prepared::complete_v1`], which a process placed in this cgroup must wait for before
    /// it runs anything the limits are to govern: until then only the unified hierarchy's
    /// limits hold it, and what it allocates is charged to its old v1 cgroups (and stays
    /// there).
    pub fn create_unified(&self) -> Result<Cgroup, Error> {
        self.make(Devices::V1Only, Part::Unified)
    }

    /// The v1 directories of a cgroup from [`Prepared::create_unified`], with their limits
    /// and device files: the `tasks` files for its process to join by itself. When this
    /// fails, what it made is removed; the unified directory stays for the caller to
    /// remove ([`Cgroup::destroy`]).
    pub fn complete_v1(&self, cgroup: &Cgroup) -> Result<SelfJoin, Error> {
        cgroup.adopt_v1(self.make(Devices::V1Only, Part::V1)?)?;
        cgroup.self_join()
    }

    /// The [`SelfJoin`] of [`Prepared::complete_v1`] for another process: the fds of
    /// [`SelfJoin::fds`], received in their order (over a unix socket).
    pub fn self_join_of(&self, fds: Vec<OwnedFd>) -> Result<SelfJoin, Error> {
        let rel = create::normalize(&self.path)?;
        let paths: Vec<PathBuf> = self
            .layout
            .v1_hierarchies()
            .into_iter()
            .map(|(mount, _)| mount.join(&rel).join("tasks"))
            .collect();
        if paths.len() != fds.len() {
            return Err(Error::Write {
                path: rel.join("tasks"),
                value: "0".into(),
                errno: Errno::EBADMSG,
            });
        }
        Ok(SelfJoin {
            tasks: paths.into_iter().zip(fds).collect(),
        })
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

    /// The cgroup on the hierarchies of `part`. An orphan of this very name there is
    /// removed and the creation tried again.
    fn make(&self, devices: Devices, part: Part) -> Result<Cgroup, Error> {
        let build = || Cgroup::build(&self.layout, &self.path, &self.resources, devices, part);
        match build() {
            Err(Error::Exists { .. }) if remove_orphan_part(&self.layout, &self.path, part)? => {
                build()
            }
            created => created,
        }
    }

    /// Removes the cgroups of boxes that died without removing theirs from this cgroup's
    /// parent (best effort: a stuck orphan must not stop a start; see
    /// [`crate::sweep_orphans`]). Its first look probes a bounded number of the parent's
    /// children, a different run each time: among many live containers an orphan is found
    /// within a few starts, and no start pays for all of them. Nothing when the cgroup sits at
    /// a hierarchy's root.
    pub fn sweep(&self) -> Option<Sweep> {
        let parent = self.path.parent().filter(|p| !p.as_os_str().is_empty())?;
        Some(sweep_some(&self.layout, parent))
    }
}
