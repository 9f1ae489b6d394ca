//! rdma, on both versions alike: `rdma.max`, one line per device
//! (`mlx4_0 hca_handle=2 hca_object=2000`); what a line leaves out stays as it was.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;

pub(crate) struct Rdma;

impl Subsystem for Rdma {
    fn controller(&self) -> Controller {
        Controller::Rdma
    }

    fn wanted(&self, res: &Resources) -> bool {
        !res.rdma.is_empty()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        for (device, l) in &res.rdma {
            let mut line = device.clone();
            if let Some(n) = l.hca_handles {
                line.push_str(&format!(" hca_handle={n}"));
            }
            if let Some(n) = l.hca_objects {
                line.push_str(&format!(" hca_object={n}"));
            }
            fs::write(dir, "rdma.max", &line)?;
        }
        Ok(())
    }

    fn read_limits(&self, _dir: &Dir, _out: &mut Limits) -> Result<(), Error> {
        Ok(())
    }

    fn stats(&self, _dir: &Dir, _out: &mut Stats) -> Result<(), Error> {
        Ok(())
    }
}
