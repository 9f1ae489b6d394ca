//! Removing cgroups whose creator is gone: a `box` killed with SIGKILL cannot clean up, and
//! its container's (by then usually empty) directories would otherwise stay forever.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;

use super::{create, Cgroup};
use crate::error::{errno_of, Error};
use crate::layout::Layout;

/// How long a sweep waits for an orphan's processes to die before it gives up on that one
/// (short: the sweep runs on the start path of every container).
pub const SWEEP_TIMEOUT: Duration = Duration::from_secs(1);

/// What [`sweep_orphans`] did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// The orphaned cgroups removed, relative to the hierarchy roots (`box/web`).
    pub removed: Vec<PathBuf>,
    /// What could not be done: a parent that could not be listed, an orphan whose processes
    /// would not die in [`SWEEP_TIMEOUT`], … Each error names the path.
    pub failed: Vec<Error>,
}

/// Remove every cgroup directly under `parent` (e.g. `box`) that nobody owns: on every
/// hierarchy of `layout`, each child directory is claimed by locking all of its directories
/// without waiting; one that is locked belongs to a live [`Cgroup::create`] handle and is
/// left alone. A claimed orphan is destroyed as [`Cgroup::destroy`] does (processes killed,
/// directories removed, `parent` too if left empty), while its locks are held, so that two
/// sweeps never work on the same one.
///
/// A creator that made its directory an instant ago but has not locked it yet may lose it
/// to a sweep: the creator notices once it holds the lock (the path no longer names the
/// directory it locked) and makes it again. Never fails as a whole: problems are listed in
/// [`Sweep::failed`], since a stuck orphan must not stop new containers.
pub fn sweep_orphans(layout: &Layout, parent: &Path) -> Sweep {
    let mut out = Sweep::default();
    let parent = match create::normalize(parent) {
        Ok(p) => p,
        Err(e) => {
            out.failed.push(e);
            return out;
        }
    };
    let mut names = BTreeSet::new();
    let mounts = layout.v1_hierarchies().into_iter().map(|(m, _)| m);
    for mount in mounts.chain(layout.v2_root()) {
        if let Err(e) = children(&mount.join(&parent), &mut names) {
            out.failed.push(e);
        }
    }
    for name in names {
        let rel = parent.join(name);
        match Cgroup::claim(layout, &rel) {
            Ok(None) => {}
            Ok(Some(cg)) => match cg.destroy_timeout(SWEEP_TIMEOUT) {
                Ok(()) => out.removed.push(rel),
                Err(e) => out.failed.push(e),
            },
            Err(e) => out.failed.push(e),
        }
    }
    out
}

/// Add the names of the subdirectories of `dir` to `names`; nothing if `dir` does not exist.
fn children(dir: &Path, names: &mut BTreeSet<OsString>) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::Read {
        path: dir.to_path_buf(),
        errno: errno_of(&e),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if matches!(errno_of(&e), Errno::ENOENT | Errno::ENODEV) => return Ok(()),
        Err(e) => return Err(err(e)),
    };
    for entry in entries {
        let entry = entry.map_err(err)?;
        if entry.file_type().map_err(err)?.is_dir() {
            names.insert(entry.file_name());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
