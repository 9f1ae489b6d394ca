//! `cpuset_cpus` and `cpuset_mems`: lists in the kernel's format, naming only CPUs and memory
//! nodes that are online.

use std::collections::BTreeSet;

use super::{first, Host, Rules};
use crate::cpulist;
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

pub(crate) struct Cpuset;

impl Rules for Cpuset {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Cpuset)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        first(&[
            ("cpuset_cpus", res.cpuset_cpus.is_some()),
            ("cpuset_mems", res.cpuset_mems.is_some()),
        ])
    }

    fn reads_host(&self) -> bool {
        true
    }

    fn validate(
        &self,
        res: &Resources,
        _layout: &Layout,
        host: &Host,
    ) -> Result<(), ValidationError> {
        let sets = [
            ("cpuset_cpus", &res.cpuset_cpus, &host.online_cpus, "CPUs"),
            (
                "cpuset_mems",
                &res.cpuset_mems,
                &host.online_mems,
                "memory nodes",
            ),
        ];
        for (field, value, online, what) in sets {
            let Some(value) = value else { continue };
            let set = cpulist::parse(value).map_err(|e| ValidationError::new(field, e))?;
            if set.is_empty() {
                return Err(ValidationError::new(field, "must name at least one"));
            }
            let outside: BTreeSet<u32> = set.difference(online).copied().collect();
            if !outside.is_empty() {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "{} not online on this host (online {what}: {})",
                        cpulist::format(&outside),
                        cpulist::format(online)
                    ),
                ));
            }
        }
        Ok(())
    }
}
