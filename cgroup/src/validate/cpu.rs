//! `cpus` and `cpu_shares`: a CPU count this host has, shares in v1's range (v2's weight is
//! converted from them).

use super::{first, Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout, Location};
use crate::resources::Resources;

pub(crate) struct Cpu;

impl Rules for Cpu {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Cpu)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        first(&[
            ("cpus", res.cpus.is_some()),
            ("cpu_period", res.cpu_period.is_some()),
            ("cpu_rt_runtime", res.cpu_rt_runtime.is_some()),
            ("cpu_rt_period", res.cpu_rt_period.is_some()),
            ("cpu_shares", res.cpu_shares.is_some()),
        ])
    }

    fn reads_host(&self) -> bool {
        true
    }

    fn validate(
        &self,
        res: &Resources,
        layout: &Layout,
        host: &Host,
    ) -> Result<(), ValidationError> {
        if let Some(p) = res.cpu_period {
            if !(1000..=1_000_000).contains(&p) {
                return Err(ValidationError::new(
                    "cpu_period",
                    format!("{p} µs is out of the kernel's range 1000..=1000000"),
                ));
            }
        }
        if let Some(c) = res.cpus {
            let n = host.online_cpus.len();
            // The kernel's smallest quota is 1 ms per period: 0.01 CPUs at 100 ms.
            let least = 1000.0 / res.period_us() as f64;
            if !c.is_finite() || c < least || c > n as f64 {
                return Err(ValidationError::new(
                    "cpus",
                    format!("{c} is out of range: from {least} to {n} (this host has {n} CPUs)"),
                ));
            }
        }
        if res.wants_cpu_rt() {
            let field = match res.cpu_rt_runtime {
                Some(_) => "cpu_rt_runtime",
                None => "cpu_rt_period",
            };
            if !matches!(layout.location(Controller::Cpu), Some(Location::V1(_))) {
                return Err(ValidationError::new(
                    field,
                    "realtime group scheduling is v1's (cgroup2 has no cpu.rt_* files)",
                ));
            }
            if res.cpu_rt_period == Some(0) || res.cpu_rt_runtime.is_some_and(|r| r < -1) {
                return Err(ValidationError::new(
                    field,
                    "the period must be above 0, the runtime -1 (no limit) or more",
                ));
            }
            if let (Some(r), Some(p)) = (res.cpu_rt_runtime, res.cpu_rt_period) {
                if r > 0 && r as u64 > p {
                    return Err(ValidationError::new(
                        "cpu_rt_runtime",
                        format!("{r} µs is more than its period, {p} µs"),
                    ));
                }
            }
        }
        if let Some(s) = res.cpu_shares {
            if !(2..=262_144).contains(&s) {
                return Err(ValidationError::new(
                    "cpu_shares",
                    format!("{s} is out of range 2..=262144 (default 1024)"),
                ));
            }
        }
        Ok(())
    }
}
