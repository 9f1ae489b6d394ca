//! v2 memory: `memory.max`, `memory.swap.max` (swap alone, not memory + swap),
//! `memory.low`, usage, and `memory.events` for OOM kills.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{Resources, Swap};
use crate::subsystem::{limited, Subsystem};

pub(crate) struct Memory;

impl Subsystem for Memory {
    fn controller(&self) -> Controller {
        Controller::Memory
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_memory()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if let Some(m) = res.memory {
            fs::write(dir, "memory.max", &m.to_string())?;
        }
        if let Some((swap, explicit)) = res.swap() {
            // memory.swap.max exists only when the kernel accounts swap.
            let unsupported = |reason: String| Error::Unsupported {
                field: "memory_swap",
                reason,
            };
            if !fs::exists(dir, "memory.swap.max") {
                if explicit {
                    let path = dir.path().join("memory.swap.max");
                    return Err(unsupported(format!(
                        "{} is missing: swap is not accounted",
                        path.display()
                    )));
                }
            } else {
                let value = match (swap, res.memory) {
                    (Swap::Unlimited, _) => "max".to_string(),
                    (Swap::Total(t), Some(m)) => t.saturating_sub(m).to_string(),
                    (Swap::Total(_), None) => {
                        return Err(unsupported(
                            "a memory + swap total needs memory to be set".into(),
                        ))
                    }
                };
                fs::write(dir, "memory.swap.max", &value)?;
            }
        }
        if let Some(r) = res.memory_reservation {
            fs::write(dir, "memory.low", &r.to_string())?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        out.memory = fs::read_max_opt(dir, "memory.max")?
            .flatten()
            .and_then(limited);
        let swap = fs::read_max_opt(dir, "memory.swap.max")?.flatten();
        out.memory_swap = out.memory.zip(swap).map(|(m, s)| m.saturating_add(s));
        out.memory_reservation = fs::read_max_opt(dir, "memory.low")?
            .flatten()
            .filter(|v| *v > 0)
            .and_then(limited);
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        out.memory_usage = fs::read_u64_opt(dir, "memory.current")?;
        // memory.peak: Linux 5.19+.
        out.memory_peak = fs::read_u64_opt(dir, "memory.peak")?;
        out.swap_usage = fs::read_u64_opt(dir, "memory.swap.current")?;
        out.oom_kills = self.oom_kills(dir)?;
        Ok(())
    }

    fn oom_kills(&self, dir: &Dir) -> Result<Option<u64>, Error> {
        Ok(fs::read_opt(dir, "memory.events")?.and_then(|text| fs::keyed(&text, "oom_kill")))
    }
}
