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

/// A directory's `cpuset.cpus` and `cpuset.mems`, trimmed: what a child copies from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement(pub(crate) [String; 2]);

/// Copies `cpuset.cpus`/`cpuset.mems` from `parent` into `dir` where `dir`'s are empty and
/// `res` (if given) does not set them itself, and returns `dir`'s values. `known`: `parent`'s
/// values, when the caller has them (the previous call's result, one level up). `fresh`: `dir`
/// was just made, so its files are empty (or, under a parent with `cgroup.clone_children`,
/// the parent's already): they are written without being read first.
pub(crate) fn inherit(
    parent: &Dir,
    dir: &Dir,
    known: Option<&Placement>,
    fresh: bool,
    res: Option<&Resources>,
) -> Result<Placement, Error> {
    let set_by_res = [
        res.and_then(|r| r.cpuset_cpus.as_deref()),
        res.and_then(|r| r.cpuset_mems.as_deref()),
    ];
    let mut own: [String; 2] = Default::default();
    for (i, file) in FILES.into_iter().enumerate() {
        if let Some(value) = set_by_res[i] {
            own[i] = value.to_string();
            continue;
        }
        if !fresh {
            let current = fs::read(dir, file)?;
            if !current.trim().is_empty() {
                own[i] = current.trim().to_string();
                continue;
            }
        }
        let value = match known {
            Some(Placement(values)) => values[i].clone(),
            None => fs::read(parent, file)?.trim().to_string(),
        };
        fs::write(dir, file, &value)?;
        own[i] = value;
    }
    Ok(Placement(own))
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
