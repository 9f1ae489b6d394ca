//! v1 memory: `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes` (memory + swap),
//! `memory.soft_limit_in_bytes`, usage and `memory.oom_control`.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{Resources, Swap};
use crate::subsystem::{limited, Subsystem};

pub(crate) struct Memory;

const LIMIT: &str = "memory.limit_in_bytes";
const MEMSW: &str = "memory.memsw.limit_in_bytes";
const SOFT: &str = "memory.soft_limit_in_bytes";

impl Subsystem for Memory {
    fn controller(&self) -> Controller {
        Controller::Memory
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_memory()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        // memsw files exist only when the kernel accounts swap (swapaccount=1).
        let swap = match res.swap() {
            Some((swap, _)) if fs::exists(dir, MEMSW) => Some(swap),
            // Docker's 2×memory default quietly does nothing where swap is not accounted.
            Some((_, false)) | None => None,
            Some((_, true)) => {
                return Err(Error::Unsupported {
                    field: "memory_swap",
                    reason: format!(
                        "{} is missing: the kernel does not account swap",
                        dir.path().join(MEMSW).display()
                    ),
                })
            }
        };
        let memsw = swap.map(|s| match s {
            Swap::Unlimited => "-1".to_string(),
            Swap::Total(t) => t.to_string(),
        });
        match (res.memory, memsw) {
            (Some(mem), Some(memsw)) => {
                // The kernel keeps limit <= memsw at every write: raise memsw first when the
                // new total is above the current limit, else lower the limit first.
                let current = fs::read_u64_opt(dir, LIMIT)?.unwrap_or(u64::MAX);
                let memsw_first = match swap {
                    Some(Swap::Total(t)) => current < t,
                    _ => true,
                };
                if memsw_first {
                    fs::write(dir, MEMSW, &memsw)?;
                    fs::write(dir, LIMIT, &mem.to_string())?;
                } else {
                    fs::write(dir, LIMIT, &mem.to_string())?;
                    fs::write(dir, MEMSW, &memsw)?;
                }
            }
            (Some(mem), None) => fs::write(dir, LIMIT, &mem.to_string())?,
            (None, Some(memsw)) => fs::write(dir, MEMSW, &memsw)?,
            (None, None) => {}
        }
        if let Some(r) = res.memory_reservation {
            fs::write(dir, SOFT, &r.to_string())?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        out.memory = fs::read_u64_opt(dir, LIMIT)?.and_then(limited);
        out.memory_swap = fs::read_u64_opt(dir, MEMSW)?.and_then(limited);
        out.memory_reservation = fs::read_u64_opt(dir, SOFT)?.and_then(limited);
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        out.memory_usage = fs::read_u64_opt(dir, "memory.usage_in_bytes")?;
        out.memory_peak = fs::read_u64_opt(dir, "memory.max_usage_in_bytes")?;
        if let (Some(sw), Some(mem)) = (
            fs::read_u64_opt(dir, "memory.memsw.usage_in_bytes")?,
            out.memory_usage,
        ) {
            out.swap_usage = Some(sw.saturating_sub(mem));
        }
        out.oom_kills = self.oom_kills(dir)?;
        Ok(())
    }

    /// `oom_kill` in memory.oom_control exists since Linux 4.13.
    fn oom_kills(&self, dir: &Dir) -> Result<Option<u64>, Error> {
        Ok(fs::read_opt(dir, "memory.oom_control")?.and_then(|text| fs::keyed(&text, "oom_kill")))
    }
}
