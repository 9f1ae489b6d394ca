//! Pausing a whole container: the v1 freezer where the host mounts it, else cgroup2's
//! `cgroup.freeze` (OCI `pause`/`resume`).

use std::time::{Duration, Instant};

use super::Cgroup;
use crate::error::Error;
use crate::fs;
use crate::layout::Controller;
use crate::v1::freezer;

/// How long a freeze may take before [`Cgroup::freeze`] gives up and thaws again.
pub const FREEZE_TIMEOUT: Duration = Duration::from_secs(2);

impl Cgroup {
    /// Stops every process of the cgroup, waiting until the kernel says they are frozen.
    /// A freeze that does not complete in [`FREEZE_TIMEOUT`] is undone, and an error.
    pub fn freeze(&self) -> Result<(), Error> {
        if let Some(dir) = self.v1_dir(Controller::Freezer) {
            if freezer::freeze(dir, FREEZE_TIMEOUT)? {
                return Ok(());
            }
            freezer::thaw(dir)?;
            return Err(self.not_frozen());
        }
        let dir = self.v2_dir().ok_or_else(|| self.no_freezer())?;
        fs::write(dir, "cgroup.freeze", "1")?;
        let start = Instant::now();
        while !fs::read(dir, "cgroup.events")?
            .lines()
            .any(|l| l == "frozen 1")
        {
            if start.elapsed() >= FREEZE_TIMEOUT {
                fs::write(dir, "cgroup.freeze", "0")?;
                return Err(self.not_frozen());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// Lets the processes of a frozen cgroup run again.
    pub fn thaw(&self) -> Result<(), Error> {
        if let Some(dir) = self.v1_dir(Controller::Freezer) {
            return freezer::thaw(dir);
        }
        let dir = self.v2_dir().ok_or_else(|| self.no_freezer())?;
        fs::write(dir, "cgroup.freeze", "0")
    }

    /// Whether the cgroup is frozen (or freezing).
    pub fn is_frozen(&self) -> Result<bool, Error> {
        if let Some(dir) = self.v1_dir(Controller::Freezer) {
            return Ok(fs::read(dir, "freezer.state")?.trim() != "THAWED");
        }
        match self.v2_dir() {
            Some(dir) => Ok(fs::read(dir, "cgroup.freeze")?.trim() == "1"),
            None => Ok(false),
        }
    }

    fn v2_dir(&self) -> Option<&crate::fs::Dir> {
        self.v2.as_ref().map(|d| &d.dir)
    }

    fn not_frozen(&self) -> Error {
        Error::Unsupported {
            field: "freeze",
            reason: format!(
                "{} did not freeze within {FREEZE_TIMEOUT:?}",
                self.rel.display()
            ),
        }
    }

    fn no_freezer(&self) -> Error {
        Error::Unsupported {
            field: "freeze",
            reason: "the host has neither the v1 freezer nor cgroup2".into(),
        }
    }
}
