//! The device policy: which device nodes the container's processes may create (`mknod`),
//! read and write. Deny everything, then allow a list of [`DeviceRule`]s
//! ([`DEFAULT_DEVICE_RULES`] are Docker's), enforced by the kernel on every cgroup version:
//!
//! - **v1**: the `devices` controller's files ([`crate::v1::devices`]).
//! - **v2**: there is no devices controller; a `BPF_PROG_TYPE_CGROUP_DEVICE` program attached
//!   to the cgroup decides ([`bpf`] builds it, [`attach`] loads and attaches it).
//! - **hybrid**: both. The container's processes are in the v1 devices hierarchy and in the
//!   unified one (`clone3(CLONE_INTO_CGROUP)`), and the kernel asks both.
//!
//! Fail closed: a policy that cannot be applied everywhere it can be is an error, never a
//! warning.

mod attach;
mod bpf;
mod rules;

use std::os::fd::BorrowedFd;
use std::path::Path;

pub use rules::{
    normalize, DeviceAccess, DeviceKind, DeviceRule, DEFAULT_DEVICE_RULES, MAX_MAJOR, MAX_MINOR,
};

use crate::error::{Error, ValidationError};
use crate::fs::Dir;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;
use crate::validate::{Host, Rules};

/// The validation of `Resources::devices`.
pub(crate) struct Policy;

impl Rules for Policy {
    /// Either the v1 controller or cgroup2 will do: [`Rules::validate`] checks.
    fn controller(&self) -> Option<Controller> {
        None
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        res.devices.as_ref().map(|_| "devices")
    }

    /// Refuse rules the kernel cannot enforce exactly, and a host that can enforce none.
    fn validate(
        &self,
        res: &Resources,
        layout: &Layout,
        _host: &Host,
    ) -> Result<(), ValidationError> {
        for rule in res.devices.iter().flatten() {
            rule.check()
                .map_err(|m| ValidationError::new("devices", m))?;
        }
        if !layout.has(Controller::Devices) && layout.v2_root().is_none() {
            return Err(ValidationError::new("devices", NO_MECHANISM));
        }
        Ok(())
    }
}

const NO_MECHANISM: &str =
    "this host has neither the v1 devices controller nor cgroup2 (for a BPF device program)";

/// Apply `rules` to the container's v1 devices directory and its unified-hierarchy
/// directory (an `O_DIRECTORY` fd, and its path for errors), whichever the host has.
pub(crate) fn apply(
    v1_dir: Option<&Dir>,
    v2_dir: Option<(BorrowedFd<'_>, &Path)>,
    rules: &[DeviceRule],
) -> Result<(), Error> {
    for rule in rules {
        rule.check().map_err(|reason| Error::Unsupported {
            field: "devices",
            reason,
        })?;
    }
    if v1_dir.is_none() && v2_dir.is_none() {
        return Err(Error::Unsupported {
            field: "devices",
            reason: NO_MECHANISM.into(),
        });
    }
    let rules = normalize(rules);
    if let Some(dir) = v1_dir {
        crate::v1::devices::apply(dir, &rules)?;
    }
    if let Some((fd, path)) = v2_dir {
        attach::install(fd, path, &bpf::program(&rules))?;
    }
    Ok(())
}

/// How many device programs are attached to the cgroup2 directory `dir` itself (for tests
/// and inspection: the kernel cannot show a program's rules the way v1 lists them).
pub fn device_programs(dir: BorrowedFd<'_>) -> Result<usize, nix::errno::Errno> {
    attach::attached(dir).map(|ids| ids.len())
}
