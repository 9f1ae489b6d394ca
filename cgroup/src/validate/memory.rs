//! `memory`, `memory_swap`, `memory_reservation`: Docker's minimum, swap as a total of memory
//! + swap, and on v1 whether the kernel accounts swap at all.

use super::{first, Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout, Location};
use crate::resources::{Resources, MIN_MEMORY};

pub(crate) struct Memory;

impl Rules for Memory {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Memory)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        first(&[
            ("memory", res.memory.is_some()),
            ("memory_swap", res.memory_swap.is_some()),
            ("memory_reservation", res.memory_reservation.is_some()),
        ])
    }

    fn validate(
        &self,
        res: &Resources,
        layout: &Layout,
        _host: &Host,
    ) -> Result<(), ValidationError> {
        let fail = |field, msg: String| Err(ValidationError::new(field, msg));
        if let Some(m) = res.memory {
            if m < MIN_MEMORY {
                return fail("memory", format!("{m} bytes is below the minimum of 6 MiB"));
            }
        }
        if let Some(s) = res.memory_swap {
            let Some(m) = res.memory else {
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
            // v1 has the memsw files only when the kernel accounts swap; v2's
            // memory.swap.max is looked for in the container's own cgroup when it is made.
            if let Some(Location::V1(root)) = layout.location(Controller::Memory) {
                if !root.join("memory.memsw.limit_in_bytes").exists() {
                    return fail(
                        "memory_swap",
                        "the kernel does not account swap (boot with swapaccount=1)".into(),
                    );
                }
            }
        }
        if let Some(r) = res.memory_reservation {
            if r < MIN_MEMORY {
                return fail(
                    "memory_reservation",
                    format!("{r} bytes is below the minimum of 6 MiB"),
                );
            }
            if res.memory.is_some_and(|m| r > m) {
                return fail("memory_reservation", "must not be above memory".into());
            }
        }
        Ok(())
    }
}
