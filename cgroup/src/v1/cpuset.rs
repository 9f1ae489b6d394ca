//! cpuset (v1, and v2 with the same files): `cpuset.cpus` and `cpuset.mems`. A new v1 cpuset cgroup starts with both
//! empty, and the kernel refuses to add a process to it until they are filled in.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;
use crate::subsystem::Subsystem;

pub(crate) struct Cpuset;

const FILES: [&str; 2] = ["cpuset.cpus", "cpuset.mems"];

/// Copy `cpuset.cpus`/`cpuset.mems` from `parent` into `dir` where `dir`'s are empty and
/// `res` (if given) does not set them itself.
pub(crate) fn inherit(parent: &Dir, dir: &Dir, res: Option<&Resources>) -> Result<(), Error> {
    let set_by_res = [
        res.is_some_and(|r| r.cpuset_cpus.is_some()),
        res.is_some_and(|r| r.cpuset_mems.is_some()),
    ];
    for (file, skip) in FILES.into_iter().zip(set_by_res) {
        if skip || !fs::read(dir, file)?.trim().is_empty() {
            continue;
        }
        let value = fs::read(parent, file)?;
        fs::write(dir, file, value.trim())?;
    }
    Ok(())
}

impl Subsystem for Cpuset {
    fn controller(&self) -> Controller {
        Controller::Cpuset
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_cpuset()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if let Some(cpus) = &res.cpuset_cpus {
            fs::write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = &res.cpuset_mems {
            fs::write(dir, "cpuset.mems", mems)?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        // Empty means "the parent's" on v2 (and "none yet" on a fresh v1 cgroup).
        let list = |file| -> Result<Option<String>, Error> {
            let text = fs::read_opt(dir, file)?;
            Ok(text.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
        };
        out.cpuset_cpus = list("cpuset.cpus")?;
        out.cpuset_mems = list("cpuset.mems")?;
        Ok(())
    }

    fn stats(&self, _dir: &Dir, _out: &mut Stats) -> Result<(), Error> {
        Ok(())
    }
}
