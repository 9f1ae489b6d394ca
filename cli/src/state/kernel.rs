//! What the kernel says about a container whatever its record says: the processes of its
//! cgroup, its PID 1 among them, and the removal of a cgroup that nobody owns any more.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
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
/// SIGKILL left, with whatever still runs in it. The cgroup crate's sweep of orphans does
/// it, so that a cgroup some live process owns (a container of the same name under another
/// state root) is never touched; the sweep removes other orphans under the same parent too,
/// as every start does.
///
/// A monitor's lock on its cgroup outlives it by a moment when it dies while starting the
/// container: the child it cloned holds the (close-on-exec) lock until it dies of its
/// parent's death. So a cgroup still owned is looked at again for up to [`OWNED_WAIT`].
pub fn remove_orphan_cgroup(path: &Path) -> Result<()> {
    let layout = Layout::detect().context("detect the cgroup hierarchies")?;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| anyhow!("cgroup {} has no parent to sweep", path.display()))?;
    let start = Instant::now();
    let sweep = loop {
        if !exists(&layout, path)? {
            return Ok(());
        }
        let sweep = box_cgroup::sweep_orphans(&layout, parent);
        if !exists(&layout, path)? {
            return Ok(());
        }
        if start.elapsed() >= OWNED_WAIT {
            break sweep;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let why: Vec<String> = sweep
        .failed
        .iter()
        .map(ToString::to_string)
        .filter(|e| e.contains(&*path.to_string_lossy()))
        .collect();
    if why.is_empty() {
        bail!(
            "cgroup {} is owned by a live process that is not this container's monitor: left in place",
            path.display()
        );
    }
    bail!("remove cgroup {}: {}", path.display(), why.join("; "))
}

fn exists(layout: &Layout, path: &Path) -> Result<bool> {
    match Cgroup::open(layout, path) {
        Ok(_) => Ok(true),
        Err(box_cgroup::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("open cgroup {}", path.display())),
    }
}
