//! `cpus` and `cpu_shares`: a CPU count this host has, shares in v1's range (v2's weight is
//! converted from them).

use super::{first, Host, Rules};
use crate::error::ValidationError;
use crate::layout::{Controller, Layout};
use crate::resources::Resources;

pub(crate) struct Cpu;

impl Rules for Cpu {
    fn controller(&self) -> Option<Controller> {
        Some(Controller::Cpu)
    }

    fn requested(&self, res: &Resources) -> Option<&'static str> {
        first(&[
            ("cpus", res.cpus.is_some()),
            ("cpu_shares", res.cpu_shares.is_some()),
        ])
    }

    fn validate(
        &self,
        res: &Resources,
        _layout: &Layout,
        host: &Host,
    ) -> Result<(), ValidationError> {
        if let Some(c) = res.cpus {
            let n = host.online_cpus.len();
            if !c.is_finite() || c < 0.01 || c > n as f64 {
                return Err(ValidationError::new(
                    "cpus",
                    format!("{c} is out of range: from 0.01 to {n} (this host has {n} CPUs)"),
                ));
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
