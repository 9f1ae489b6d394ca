//! v1 cpuacct: CPU time used, in ns (`cpuacct.usage`, `cpuacct.usage_user`, `…_sys`).

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;

pub(crate) struct Cpuacct;

impl Subsystem for Cpuacct {
    fn controller(&self) -> Controller {
        Controller::Cpuacct
    }

    fn wanted(&self, _res: &Resources) -> bool {
        false
    }

    fn apply(&self, _dir: &Dir, _res: &Resources) -> Result<(), Error> {
        Ok(())
    }

    fn read_limits(&self, _dir: &Dir, _out: &mut Limits) -> Result<(), Error> {
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        out.cpu_usage_ns = fs::read_u64_opt(dir, "cpuacct.usage")?;
        out.cpu_user_ns = fs::read_u64_opt(dir, "cpuacct.usage_user")?;
        out.cpu_system_ns = fs::read_u64_opt(dir, "cpuacct.usage_sys")?;
        Ok(())
    }
}
