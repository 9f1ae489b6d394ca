//! v1 cpu: CFS bandwidth (`cpu.cfs_quota_us` per `cpu.cfs_period_us`), `cpu.shares`, realtime
//! group scheduling (`cpu.rt_runtime_us` per `cpu.rt_period_us`), and
//! throttling counts from `cpu.stat`.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
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
        if res.cpus.is_some() || res.cpu_period.is_some() {
            // Period first: the quota is checked against the period in force.
            fs::write(dir, "cpu.cfs_period_us", &res.period_us().to_string())?;
        }
        if let Some(quota) = res.quota_us() {
            fs::write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
        }
        // Period first again: the kernel checks the runtime against the period in force.
        if let Some(period) = res.cpu_rt_period {
            fs::write(dir, "cpu.rt_period_us", &period.to_string())?;
        }
        if let Some(runtime) = res.cpu_rt_runtime {
            fs::write(dir, "cpu.rt_runtime_us", &runtime.to_string())?;
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
