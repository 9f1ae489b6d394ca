//! Removing cgroups whose creator is gone: a `box` killed with SIGKILL cannot clean up, and
//! its container's (by then usually empty) directories would otherwise stay forever.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;

use super::lock::{self, Attempt};
use super::{create, Cgroup, Part};
use crate::error::Error;
use crate::fs;
use crate::layout::{Layout, Roots};

/// How long a sweep waits for an orphan's processes to die before it gives up on that one
/// (short: the sweep runs on the start path of every container).
pub const SWEEP_TIMEOUT: Duration = Duration::from_secs(1);

/// The most children of the parent a sweep probes on each of the two hierarchies it looks at
/// first (each probe an `open` and a `flock` on cgroupfs, ~6 µs here).
const MAX_PROBES: usize = 8;

/// What [`sweep_orphans`] did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// The orphaned cgroups removed, relative to the hierarchy roots (`box/web`).
    pub removed: Vec<PathBuf>,
    /// What could not be done: a parent that could not be listed, an orphan whose processes
    /// would not die in [`SWEEP_TIMEOUT`], … Each error names the path.
    pub failed: Vec<Error>,
    /// Nothing was swept because the parent was held: another process was creating a
    /// cgroup in it right then, or listing it, or it is a live cgroup itself (sweeping is
    /// best effort: the next sweep does it).
    pub skipped: bool,
}

/// Remove every cgroup directly under `parent` (e.g. `box`) that nobody owns: on every
/// hierarchy of `layout`, each child directory is claimed by locking all of its directories
/// without waiting; one that is locked belongs to a live [`Cgroup::create`] handle and is
/// left alone, and so is one with subdirectories (a parent of other cgroups, not a
/// container's). A claimed orphan is destroyed as [`Cgroup::destroy`] does (processes
/// killed, directories removed, `parent` too if left empty), while its locks are held, so
/// that two sweeps never work on the same one.
///
/// The listing and the claims happen while the sweep holds `parent` exclusively on every
/// hierarchy. A creator holds it shared from before its `mkdir` until it has locked its new
/// directory, so a sweep never sees a cgroup in that instant. The sweep does not wait: when
/// `parent` is held, nothing is swept ([`Sweep::skipped`]); that is also always the case
/// while `parent` is itself a live cgroup. Never fails as a whole: problems are listed in
/// [`Sweep::failed`], since a stuck orphan must not stop new containers. To free the one name
/// about to be created, see [`remove_orphan`].
///
/// It looks first at the first and the last hierarchy only: a cgroup is made on each
/// hierarchy in one order and removed in the same order, so one whose creator or remover
/// died half-way is on at least one of those two. When neither has a child nobody holds,
/// there is no orphan and the other hierarchies are not touched (the usual case, on the
/// start path of every container). A directory someone else left on a middle hierarchy
/// only is not seen.
pub fn sweep_orphans(layout: &Layout, parent: &Path) -> Sweep {
    sweep_looking_at(layout, parent, usize::MAX, 0)
}

/// [`sweep_orphans`] on a start path: the first look probes at most [`MAX_PROBES`] children
/// of the parent on each of its two hierarchies, a different run of them each time, so that
/// its cost stays bounded however many live containers share the parent. An orphan among many
/// live cgroups is found within a few starts rather than at the next one.
pub(crate) fn sweep_some(layout: &Layout, parent: &Path) -> Sweep {
    sweep_looking_at(layout, parent, MAX_PROBES, probe_start())
}

/// The sweep, its first look probing `max` children from the `start`th on.
fn sweep_looking_at(layout: &Layout, parent: &Path, max: usize, start: usize) -> Sweep {
    let mut out = Sweep::default();
    let (parent, roots) = match create::normalize(parent).and_then(|p| Ok((p, layout.roots()?))) {
        Ok(found) => found,
        Err(e) => {
            out.failed.push(e);
            return out;
        }
    };
    match has_candidates(&roots, &layout.mount_points(), &parent, (max, start)) {
        Ok(Candidates::None) => return out,
        Ok(Candidates::Some) => {}
        Ok(Candidates::Busy) => {
            out.skipped = true;
            return out;
        }
        Err(e) => {
            out.failed.push(e);
            return out;
        }
    }
    let mut held = Vec::new();
    let mut names = BTreeSet::new();
    for mount in layout.mount_points() {
        match hold_and_list(&roots, mount, &parent, &mut names) {
            Ok(Parent::Held(fd)) => held.push(fd),
            Ok(Parent::Absent) => {}
            Ok(Parent::Busy) => {
                out.skipped = true;
                return out;
            }
            // Unheld, that parent could hide a creator half-way: sweep nothing.
            Err(e) => {
                out.failed.push(e);
                return out;
            }
        }
    }
    let mut orphans = Vec::new();
    for name in names {
        let rel = parent.join(name);
        match claim_leaf(layout, &roots, &rel, Part::All) {
            Ok(None) => {}
            Ok(Some(cg)) => orphans.push(cg),
            Err(e) => out.failed.push(e),
        }
    }
    // The claims are ours: creators may go on while the orphans are destroyed.
    drop(held);
    for cg in orphans {
        match cg.destroy_timeout(SWEEP_TIMEOUT) {
            Ok(()) => out.removed.push(cg.rel.clone()),
            Err(e) => out.failed.push(e),
        }
    }
    out
}

/// Remove the cgroup `path` if nobody owns it (its creator died), killing what is left in
/// it; its parents stay. `Ok(false)` if it does not exist or is owned. For a caller about to
/// create `path` when [`Cgroup::create`] said [`Error::Exists`] (a sweep may have been
/// skipped): no parent lock is needed for one name, since a creator of the same name in the
/// same instant is a name conflict anyway.
pub fn remove_orphan(layout: &Layout, path: &Path) -> Result<bool, Error> {
    remove_orphan_part(layout, path, Part::All)
}

/// [`remove_orphan`] on the hierarchies of `part` only: a creator that has made the others
/// holds them.
pub(crate) fn remove_orphan_part(layout: &Layout, path: &Path, part: Part) -> Result<bool, Error> {
    let roots = layout.roots()?;
    let Some(cg) = claim_leaf(layout, &roots, path, part)? else {
        return Ok(false);
    };
    cg.kill_all(SWEEP_TIMEOUT)?;
    cg.remove_leaves()?;
    Ok(true)
}

/// [`Cgroup::claim`], for a cgroup without subdirectories only: one with some is a parent of
/// other cgroups (killing "its" processes would reach theirs through v2's `cgroup.kill`), and
/// could not be removed anyway.
fn claim_leaf(
    layout: &Layout,
    roots: &Roots,
    rel: &Path,
    part: Part,
) -> Result<Option<Cgroup>, Error> {
    let Some(cg) = Cgroup::claim(layout, roots, rel, part)? else {
        return Ok(None);
    };
    for dir in cg.leaf_dirs() {
        match fs::subdirs(dir) {
            Ok(list) if list.is_empty() => {}
            Ok(_) => return Ok(None),
            Err(errno) => {
                return Err(Error::Read {
                    path: dir.path().to_path_buf(),
                    errno,
                })
            }
        }
    }
    Ok(Some(cg))
}

/// What the first and the last hierarchy show.
enum Candidates {
    /// Every child of the parent there is held: no orphan anywhere.
    None,
    /// A child nobody holds: the whole sweep has work.
    Some,
    /// The parent is held: a creator is at work (the whole sweep would be skipped too).
    Busy,
}

/// Whether `parent` has a child nobody holds on the first or the last of `mounts`. Each is
/// looked at as the whole sweep does it, under the parent's exclusive lock, so a creator
/// between its `mkdir` and its lock is never probed.
fn has_candidates(
    roots: &Roots,
    mounts: &[&Path],
    parent: &Path,
    (max, start): (usize, usize),
) -> Result<Candidates, Error> {
    let ends = match mounts {
        [] => return Ok(Candidates::None),
        [only] => vec![*only],
        [first, .., last] => vec![*first, *last],
    };
    for mount in ends {
        let mut names = BTreeSet::new();
        let _held = match hold_and_list(roots, mount, parent, &mut names)? {
            Parent::Held(fd) => fd,
            Parent::Absent => continue,
            Parent::Busy => return Ok(Candidates::Busy),
        };
        let base = roots.dir(mount)?.join(parent)?;
        let names: Vec<OsString> = names.into_iter().collect();
        for name in probed(&names, max, start) {
            let dir = base.join(Path::new(name))?;
            if let Attempt::Got(_) = lock::try_exclusive(&dir)? {
                return Ok(Candidates::Some);
            }
        }
    }
    Ok(Candidates::None)
}

/// The children one look probes: all of them up to `max`, else `max` in a row from the
/// `start`th (wrapping around).
fn probed(names: &[OsString], max: usize, start: usize) -> impl Iterator<Item = &OsString> {
    let (start, count) = match names.len() {
        n if n <= max => (0, n),
        n => (start % n, max),
    };
    names.iter().cycle().skip(start).take(count)
}

/// Where this process's look starts: varies from one start to the next.
fn probe_start() -> usize {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |t| t.subsec_nanos() as usize)
}

/// A sweep's hold on the parent of one hierarchy.
enum Parent {
    /// Locked exclusively (for as long as the fd is open).
    Held(OwnedFd),
    /// Not there: nothing to sweep on that hierarchy.
    Absent,
    /// A creator (or the parent's owner) holds it.
    Busy,
}

/// Lock `mount/parent` exclusively without waiting and add the names of its subdirectories
/// to `names`.
fn hold_and_list(
    roots: &Roots,
    mount: &Path,
    parent: &Path,
    names: &mut BTreeSet<OsString>,
) -> Result<Parent, Error> {
    let dir = roots.dir(mount)?.join(parent)?;
    let fd = match lock::try_exclusive(&dir)? {
        Attempt::Got(fd) => fd,
        Attempt::Busy => return Ok(Parent::Busy),
        Attempt::Gone => return Ok(Parent::Absent),
    };
    match fs::subdirs(&dir) {
        Ok(list) => names.extend(list),
        Err(Errno::ENOENT | Errno::ENODEV) => {}
        Err(errno) => {
            return Err(Error::Read {
                path: dir.path().to_path_buf(),
                errno,
            })
        }
    }
    Ok(Parent::Held(fd))
}

#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod tests;
