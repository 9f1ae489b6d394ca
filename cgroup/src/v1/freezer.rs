//! v1 freezer: stop every process of a cgroup at once, so that none can fork while they are
//! being killed.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::fs::{self, Dir};

const STATE: &str = "freezer.state";

/// Ask the kernel to freeze `dir` and wait (bounded) until it reports FROZEN. Returns
/// whether it got there; a task stuck in the kernel can keep a cgroup FREEZING.
pub(crate) fn freeze(dir: &Dir, timeout: Duration) -> Result<bool, Error> {
    fs::write(dir, STATE, "FROZEN")?;
    let start = Instant::now();
    loop {
        if fs::read(dir, STATE)?.trim() == "FROZEN" {
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            return Ok(false);
        }
        // Writing again nudges tasks that were forking while the freeze started.
        std::thread::sleep(Duration::from_millis(1));
        fs::write(dir, STATE, "FROZEN")?;
    }
}

pub(crate) fn thaw(dir: &Dir) -> Result<(), Error> {
    fs::write(dir, STATE, "THAWED")
}
