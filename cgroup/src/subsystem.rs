//! One controller's files on one cgroup version, behind a common trait, so that applying
//! limits, reading them back and reading usage is a loop over small modules.

use crate::error::Error;
use crate::fs::Dir;
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::Resources;

pub(crate) trait Subsystem: Sync {
    /// The controller whose files this module knows.
    fn controller(&self) -> Controller;

    /// The controller whose location decides where `stats` reads (v2 `cpu.stat` answers
    /// for v1's cpuacct).
    fn stats_controller(&self) -> Controller {
        self.controller()
    }

    /// Whether `res` sets anything this module writes.
    fn wanted(&self, res: &Resources) -> bool;

    /// Write the limits of `res` that concern this controller into the cgroup `dir`.
    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error>;

    /// Fill the fields of `out` that this controller's files hold.
    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error>;

    /// Fill the usage fields of `out` that this controller's files hold.
    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error>;

    /// How many times the kernel's OOM killer killed in the cgroup, where this controller's
    /// files say (memory only): read alone at every container's end, without the usage files.
    fn oom_kills(&self, _dir: &Dir) -> Result<Option<u64>, Error> {
        Ok(None)
    }
}

/// v1 memory and v2 memory files of an unlimited cgroup hold huge values; anything at or above
/// 2^62 bytes is "no limit" (the exact value depends on the page size).
pub(crate) fn limited(v: u64) -> Option<u64> {
    (v < 1 << 62).then_some(v)
}
