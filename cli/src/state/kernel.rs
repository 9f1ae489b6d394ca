//! What the kernel says about a container whatever its record says: the processes of its
//! cgroup, its PID 1 among them, and the removal of a cgroup that nobody owns any more.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use box_cgroup::{Cgroup, Layout};

use super::proc::{parent_of, ProcessId};

/// How long a cgroup may stay owned after its monitor is gone (see [`remove_orphan_cgroup`]).
const OWNED_WAIT: Duration = Duration::from_secs(3);

/// The process in the cgroup at `path` whose parent is `parent` (a container's PID 1 is the
/// only child its monitor has there).
pub fn child_in_cgroup(parent: i32, path: &Path) -> Option<ProcessId> {
    let layout = Layout::detect().ok()?;
    let cgroup = Cgroup::open(&layout, path).ok()?;
    cgroup
        .procs()
        .ok()?
        .into_iter()
        .map(|p| p.as_raw())
        .find(|&pid| parent_of(pid) == Some(parent))
        .and_then(ProcessId::of)
}

/// Removes the cgroup at `path` if it exists and nobody owns it: what a monitor killed with
/// SIGKILL left, with whatever still runs in it. The cgroup crate's `remove_orphan` does it,
/// so that a cgroup some live process owns (a container of the same name under another state
/// root) is never touched.
///
/// A monitor's lock on its cgroup outlives it by a moment when it dies while starting the
/// container: the child it cloned holds the (close-on-exec) lock until it dies of its
/// parent's death. So a cgroup still owned is looked at again for up to [`OWNED_WAIT`].
pub fn remove_orphan_cgroup(path: &Path) -> Result<()> {
    let layout = Layout::detect().context("detect the cgroup hierarchies")?;
    let start = Instant::now();
    loop {
        let failed = box_cgroup::remove_orphan(&layout, path).err();
        if !exists(&layout, path)? {
            return Ok(());
        }
        if start.elapsed() >= OWNED_WAIT {
            return Err(match failed {
                Some(e) => anyhow!("remove cgroup {}: {e}", path.display()),
                None => anyhow!(
                    "cgroup {} is owned by a live process that is not this container's monitor: left in place",
                    path.display()
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn exists(layout: &Layout, path: &Path) -> Result<bool> {
    match Cgroup::open(layout, path) {
        Ok(_) => Ok(true),
        Err(box_cgroup::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("open cgroup {}", path.display())),
    }
}
