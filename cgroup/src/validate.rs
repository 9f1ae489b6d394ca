//! Refuse values the kernel would refuse, or accept and then misbehave with, before anything
//! is created; each error names the `Resources` field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cpulist;
use crate::error::ValidationError;
use crate::layout::{Controller, Layout, Location};
use crate::resources::{Resources, MIN_MEMORY};

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

impl Resources {
    /// Check every field against Docker's rules, this host's CPUs and memory nodes, and the
    /// controllers `layout` has. Reads sysfs (see [`Host::detect`]).
    pub fn validate(&self, layout: &Layout) -> Result<(), ValidationError> {
        self.validate_on(layout, &Host::detect())
    }

    /// [`Resources::validate`] against a given host description.
    pub fn validate_on(&self, layout: &Layout, host: &Host) -> Result<(), ValidationError> {
        let need = |field, c: Controller| {
            if layout.has(c) {
                Ok(())
            } else {
                Err(ValidationError::new(
                    field,
                    format!(
                        "this host has no {} cgroup controller ({:?} layout)",
                        c,
                        layout.mode()
                    ),
                ))
            }
        };
        let fail = |field, msg: String| Err(ValidationError::new(field, msg));

        if let Some(m) = self.memory {
            need("memory", Controller::Memory)?;
            if m < MIN_MEMORY {
                return fail("memory", format!("{m} bytes is below the minimum of 6 MiB"));
            }
        }
        if let Some(s) = self.memory_swap {
            need("memory_swap", Controller::Memory)?;
            let Some(m) = self.memory else {
                return fail(
                    "memory_swap",
                    "needs memory to be set too (it is memory + swap)".into(),
                );
            };
            if s != -1 && (s < 0 || (s as u64) < m) {
                return fail(
                    "memory_swap",
                    format!(
                        "{s} bytes is below memory ({m} bytes): it is memory + swap, \
                         so at least memory, or -1 for unlimited swap"
                    ),
                );
            }
            if let Some(Location::V1(root)) = layout.location(Controller::Memory) {
                if !root.join("memory.memsw.limit_in_bytes").exists() {
                    return fail(
                        "memory_swap",
                        "the kernel does not account swap (boot with swapaccount=1)".into(),
                    );
                }
            }
        }
        if let Some(r) = self.memory_reservation {
            need("memory_reservation", Controller::Memory)?;
            if r < MIN_MEMORY {
                return fail(
                    "memory_reservation",
                    format!("{r} bytes is below the minimum of 6 MiB"),
                );
            }
            if self.memory.is_some_and(|m| r > m) {
                return fail("memory_reservation", "must not be above memory".into());
            }
        }
        if let Some(c) = self.cpus {
            need("cpus", Controller::Cpu)?;
            let n = host.online_cpus.len();
            if !c.is_finite() || c < 0.01 || c > n as f64 {
                return fail(
                    "cpus",
                    format!("{c} is out of range: from 0.01 to {n} (this host has {n} CPUs)"),
                );
            }
        }
        if let Some(s) = self.cpu_shares {
            need("cpu_shares", Controller::Cpu)?;
            if !(2..=262_144).contains(&s) {
                return fail(
                    "cpu_shares",
                    format!("{s} is out of range 2..=262144 (default 1024)"),
                );
            }
        }
        let sets = [
            ("cpuset_cpus", &self.cpuset_cpus, &host.online_cpus, "CPUs"),
            (
                "cpuset_mems",
                &self.cpuset_mems,
                &host.online_mems,
                "memory nodes",
            ),
        ];
        for (field, value, online, what) in sets {
            let Some(value) = value else { continue };
            need(field, Controller::Cpuset)?;
            let set = cpulist::parse(value).map_err(|e| ValidationError::new(field, e))?;
            if set.is_empty() {
                return fail(field, "must name at least one".into());
            }
            let outside: BTreeSet<u32> = set.difference(online).copied().collect();
            if !outside.is_empty() {
                return fail(
                    field,
                    format!(
                        "{} not online on this host (online {what}: {})",
                        cpulist::format(&outside),
                        cpulist::format(online)
                    ),
                );
            }
        }
        if let Some(p) = self.pids {
            need("pids", Controller::Pids)?;
            if p != -1 && p < 1 {
                return fail("pids", format!("{p}: must be -1 (unlimited) or at least 1"));
            }
        }
        if let Some(w) = self.io_weight {
            need("io_weight", Controller::Io)?;
            if !(10..=1000).contains(&w) {
                return fail("io_weight", format!("{w} is out of range 10..=1000"));
            }
        }
        for (field, list) in self.io_throttles() {
            if list.is_empty() {
                continue;
            }
            need(field, Controller::Io)?;
            for d in list {
                if d.rate == 0 {
                    return fail(
                        field,
                        format!("{}:{}: rate must be above 0", d.major, d.minor),
                    );
                }
                let dev = host
                    .sys_root
                    .join(format!("dev/block/{}:{}", d.major, d.minor));
                if !dev.exists() {
                    return fail(
                        field,
                        format!("{}:{} is not a block device here", d.major, d.minor),
                    );
                }
            }
        }
        if let Some(rules) = &self.devices {
            crate::devices::validate(rules, layout)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
