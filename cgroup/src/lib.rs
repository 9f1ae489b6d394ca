//! Linux cgroups for one container, on every kind of host: cgroup v1, v2 and hybrid (v1
//! controllers plus a controller-less cgroup2 mount).
//!
//! - [`Layout`] says where the host mounts which controller (from mountinfo, each root then
//!   checked to be that cgroup filesystem, or given by the caller to point at any directory
//!   tree); every file is reached from a root's fd without following symlinks.
//! - [`Resources`] are the limits, in Docker's terms, and the device policy ([`DeviceRule`]s
//!   to allow, everything else denied; [`DEFAULT_DEVICE_RULES`] are Docker's);
//!   [`Resources::validate`] refuses what the host cannot do, naming the field;
//!   [`parse_size`] reads `"200m"`.
//! - [`Cgroup`] creates the container's directories at each hierarchy's root (`box/<name>`),
//!   writes the limits, takes processes in, reports [`Limits`] and [`Stats`] read from the
//!   kernel, tells whether the OOM killer struck, and removes everything again.
//! - [`mountinfo`] parses `/proc/PID/mountinfo` into typed [`mountinfo::Mount`]s (the layout
//!   is read with it; box's tests and xtask use it too).
//! - [`sweep_orphans`] removes the cgroups whose creator died without removing them (a
//!   created [`Cgroup`] holds a `flock` on its directories; an orphan's are free).
//!
//! ```no_run
//! use std::path::Path;
//! use box_cgroup::{parse_size, Cgroup, Layout, Resources};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layout = Layout::detect()?;
//! let res = Resources {
//!     memory: Some(parse_size("200m")?),
//!     cpus: Some(1.5),
//!     pids: Some(128),
//!     ..Default::default()
//! };
//! res.validate(&layout)?;
//! let cg = Cgroup::create(&layout, Path::new("box/web"), &res)?;
//! let child = std::process::Command::new("sleep").arg("60").spawn()?;
//! cg.add_process(nix::unistd::Pid::from_raw(child.id() as i32))?;
//! println!("{:?}", cg.stats()?);
//! cg.destroy()?; // kills `sleep`, removes box/web (and box/ if it is empty)
//! # Ok(()) }
//! ```

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cgroup;
mod cpulist;
mod devices;
mod error;
mod fs;
mod layout;
mod report;
mod resources;
mod size;
mod subsystem;
#[cfg(test)]
mod testing;
mod v1;
mod v2;
mod validate;

pub use cgroup::{
    check, prepare, prepare_on, remove_orphan, sweep_orphans, Cgroup, CgroupDir, Hierarchy,
    Prepared, SelfJoin, Sweep, DESTROY_TIMEOUT, FREEZE_TIMEOUT, SWEEP_TIMEOUT,
};
pub use devices::{
    device_programs, DeviceAccess, DeviceKind, DeviceRule, DEFAULT_DEVICE_RULES, MAX_MAJOR,
    MAX_MINOR,
};
pub use error::{Error, ParseSizeError, ValidationError};
pub use layout::{mountinfo, Controller, Layout, Location, Mode};
pub use report::{Limits, Stats};
pub use resources::{
    cpu_quota_us, io_weight_to_v2, shares_to_weight, DeviceLimit, HugetlbLimit, RdmaLimit,
    Resources, CPU_PERIOD_US, MIN_MEMORY,
};
pub use size::parse_size;
pub use validate::Host;

/// The README's example, compiled by `cargo test --doc`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
