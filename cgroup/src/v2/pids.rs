//! pids (v1 and v2 alike): `pids.max` ("max" = unlimited) and `pids.current`.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;

pub(crate) struct Pids;

impl Subsystem for Pids {
    fn controller(&self) -> Controller {
        Controller::Pids
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.pids.is_some()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        match res.pids {
            Some(p) if p < 0 => fs::write(dir, "pids.max", "max"),
            Some(p) => fs::write(dir, "pids.max", &p.to_string()),
            None => Ok(()),
        }
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        out.pids = fs::read_max_opt(dir, "pids.max")?.flatten();
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        out.pids_current = fs::read_u64_opt(dir, "pids.current")?;
        Ok(())
    }
}
