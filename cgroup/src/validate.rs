//! Refuse values the kernel would refuse, or accept and then misbehave with, before anything
//! is created; each error names the `Resources` field.
//!
//! Each controller checks its own fields ([`Rules`]: `validate/memory.rs`, `cpu.rs`,
//! `cpuset.rs`, `pids.rs`, `io.rs`, and the device policy in `devices/`);
//! [`Resources::validate_on`] asks each in the order of `Resources`'s fields, after checking
//! that the host has the controller.

mod cpu;
mod cpuset;
mod hugetlb;
mod io;
mod memory;
mod pids;
mod unified;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cpulist;
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

/// What validation needs to know about the host: its online CPUs and memory nodes, and where
/// sysfs is (to check that throttled block devices exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub online_cpus: BTreeSet<u32>,
    pub online_mems: BTreeSet<u32>,
    pub sys_root: PathBuf,
}

impl Host {
    /// Read `/sys/devices/system/{cpu,node}/online`; falls back to the CPUs this process may
    /// use and node 0 when sysfs does not say.
    pub fn detect() -> Host {
        Host::from_sysfs(Path::new("/sys"))
    }

    /// As [`Host::detect`], with sysfs mounted at `sys_root`.
    pub fn from_sysfs(sys_root: &Path) -> Host {
        let list = |rel: &str| {
            std::fs::read_to_string(sys_root.join(rel))
                .ok()
                .and_then(|s| cpulist::parse(&s).ok())
                .filter(|set| !set.is_empty())
        };
        let online_cpus = list("devices/system/cpu/online").unwrap_or_else(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n as u32).collect()
        });
        let online_mems = list("devices/system/node/online").unwrap_or_else(|| [0].into());
        Host {
            online_cpus,
            online_mems,
            sys_root: sys_root.to_path_buf(),
        }
    }
}

/// The checks of one controller's `Resources` fields: Docker's rules for the values, and
/// what this host has.
///
/// A sibling of [`crate::subsystem::Subsystem`] rather than a method of it: a `Subsystem` is
/// one controller's *files on one version*, and memory, cpu and io have a v1 and a v2 module
/// each, while their rules are about the request and the same on both. One `Rules` per
/// controller keeps each rule in one place; the one that depends on the version (v1's swap
/// accounting) looks at where the layout has the controller.
pub(crate) trait Rules: Sync {
    /// The controller the fields need; `None` when [`Rules::validate`] checks for itself
    /// (the device policy: the v1 devices controller or cgroup2).
    fn controller(&self) -> Option<Controller>;

    /// The first of this controller's fields that `res` sets, in field order (the one a
    /// missing controller is reported against); `None` when it sets none of them.
    fn requested(&self, res: &Resources) -> Option<&'static str>;

    /// Check the fields of `res` that concern this controller, which the host has.
    fn validate(
        &self,
        res: &Resources,
        layout: &Layout,
        host: &Host,
    ) -> Result<(), ValidationError>;

    /// Whether [`Rules::validate`] looks at the [`Host`] (its CPUs, nodes or sysfs).
    fn reads_host(&self) -> bool {
        false
    }
}

/// Every controller's rules, in the order of `Resources`'s fields: the first error found is
/// the first bad field.
static RULES: [&dyn Rules; 9] = [
    &memory::Memory,
    &cpu::Cpu,
    &cpuset::Cpuset,
    &pids::Pids,
    &io::Io,
    &crate::devices::Policy,
    &hugetlb::Hugetlb,
    &hugetlb::Rdma,
    &unified::Unified,
];

/// Whether a field of `res` is checked against the host's CPUs, nodes or sysfs.
fn reads_host(res: &Resources) -> bool {
    RULES
        .iter()
        .any(|rules| rules.reads_host() && rules.requested(res).is_some())
}

/// The first field whose flag is set.
pub(crate) fn first(fields: &[(&'static str, bool)]) -> Option<&'static str> {
    fields.iter().find(|(_, set)| *set).map(|(field, _)| *field)
}

impl Resources {
    /// Check every field against Docker's rules, this host's CPUs and memory nodes, and the
    /// controllers `layout` has. Reads sysfs (see [`Host::detect`]).
    pub fn validate(&self, layout: &Layout) -> Result<(), ValidationError> {
        let host = match reads_host(self) {
            true => Host::detect(),
            // Nothing asked about it: no sysfs read on every start.
            false => Host {
                online_cpus: BTreeSet::new(),
                online_mems: BTreeSet::new(),
                sys_root: PathBuf::from("/sys"),
            },
        };
        self.validate_on(layout, &host)
    }

    /// [`Resources::validate`] against a given host description.
    pub fn validate_on(&self, layout: &Layout, host: &Host) -> Result<(), ValidationError> {
        for rules in RULES {
            let Some(field) = rules.requested(self) else {
                continue;
            };
            if let Some(c) = rules.controller().filter(|c| !layout.has(*c)) {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "this host has no {c} cgroup controller ({:?} layout)",
                        layout.mode()
                    ),
                ));
            }
            rules.validate(self, layout, host)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
