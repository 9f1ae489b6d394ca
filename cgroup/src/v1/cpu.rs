//! v1 cpu: CFS bandwidth (`cpu.cfs_quota_us` per `cpu.cfs_period_us`), `cpu.shares`, and
//! throttling counts from `cpu.stat`.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{cpu_quota_us, Resources, CPU_PERIOD_US};
use crate::subsystem::Subsystem;

pub(crate) struct Cpu;

impl Subsystem for Cpu {
    fn controller(&self) -> Controller {
        Controller::Cpu
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_cpu()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if let Some(shares) = res.cpu_shares {
            fs::write(dir, "cpu.shares", &shares.to_string())?;
        }
        if let Some(cpus) = res.cpus {
            // Period first: the quota is checked against the period in force.
            fs::write(dir, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
            fs::write(dir, "cpu.cfs_quota_us", &cpu_quota_us(cpus).to_string())?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        out.cpu_shares = fs::read_u64_opt(dir, "cpu.shares")?;
        out.cpu_period_us = fs::read_u64_opt(dir, "cpu.cfs_period_us")?;
        // -1 = no quota.
        out.cpu_quota_us = match fs::read_opt(dir, "cpu.cfs_quota_us")? {
            Some(s) if s.trim() == "-1" => None,
            Some(s) => Some(
                s.trim()
                    .parse()
                    .map_err(|_| fs::parse_err(dir, "cpu.cfs_quota_us", &s))?,
            ),
            None => None,
        };
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        if let Some(text) = fs::read_opt(dir, "cpu.stat")? {
            out.cpu_periods = fs::keyed(&text, "nr_periods");
            out.cpu_throttled_periods = fs::keyed(&text, "nr_throttled");
            out.cpu_throttled_ns = fs::keyed(&text, "throttled_time");
        }
        Ok(())
    }
}
