//! v2 cpu: `cpu.max` ("quota period"), `cpu.weight`, and `cpu.stat`, whose usage lines every
//! v2 cgroup has even without the cpu controller.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{shares_to_weight, Resources};
use crate::subsystem::Subsystem;

pub(crate) struct Cpu;

impl Subsystem for Cpu {
    fn controller(&self) -> Controller {
        Controller::Cpu
    }

    fn stats_controller(&self) -> Controller {
        Controller::Cpuacct
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_cpu()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if res.cpus.is_some() || res.cpu_period.is_some() {
            // A period alone keeps no quota ("max"), as runc writes it.
            let quota = res.quota_us().map_or("max".to_string(), |q| q.to_string());
            fs::write(dir, "cpu.max", &format!("{quota} {}", res.period_us()))?;
        }
        if let Some(shares) = res.cpu_shares {
            fs::write(dir, "cpu.weight", &shares_to_weight(shares).to_string())?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        if let Some(text) = fs::read_opt(dir, "cpu.max")? {
            let bad = || fs::parse_err(dir, "cpu.max", &text);
            let (quota, period) = text.trim().split_once(' ').ok_or_else(bad)?;
            out.cpu_period_us = Some(period.parse().map_err(|_| bad())?);
            out.cpu_quota_us = match quota {
                "max" => None,
                q => Some(q.parse().map_err(|_| bad())?),
            };
        }
        out.cpu_weight = fs::read_u64_opt(dir, "cpu.weight")?;
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        let Some(text) = fs::read_opt(dir, "cpu.stat")? else {
            return Ok(());
        };
        let ns = |key| fs::keyed(&text, key).map(|us| us.saturating_mul(1000));
        out.cpu_usage_ns = ns("usage_usec");
        out.cpu_user_ns = ns("user_usec");
        out.cpu_system_ns = ns("system_usec");
        out.cpu_periods = fs::keyed(&text, "nr_periods");
        out.cpu_throttled_periods = fs::keyed(&text, "nr_throttled");
        out.cpu_throttled_ns = ns("throttled_usec");
        Ok(())
    }
}
