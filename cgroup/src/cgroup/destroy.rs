//! Removing a container's cgroup, processes and all: kill everything inside (v2
//! `cgroup.kill`, else freeze + SIGKILL + thaw), wait until empty, rmdir, prune empty parents.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};

use super::lock::{self, Attempt};
use super::Cgroup;
use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::v1::freezer;

/// How long [`Cgroup::destroy`] waits for processes to die.
pub const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one freeze may take before we kill without it.
const FREEZE_TIMEOUT: Duration = Duration::from_millis(200);
/// A new kill round this often while processes remain (forks that escaped the last one).
const KILL_ROUND: Duration = Duration::from_millis(100);

impl Cgroup {
    /// Kill every process left in the cgroup, wait until it is empty, and remove the
    /// container's directory on every hierarchy, then each parent (such as `box/`) that is
    /// left empty. Safe to call again after an error, or on a cgroup already gone.
    pub fn destroy(&self) -> Result<(), Error> {
        self.destroy_timeout(DESTROY_TIMEOUT)
    }

    /// [`Cgroup::destroy`], giving up after `timeout` if processes refuse to die (stuck in
    /// uninterruptible sleep); the cgroup is then left in place and the error lists them.
    pub fn destroy_timeout(&self, timeout: Duration) -> Result<(), Error> {
        self.kill_all(timeout)?;
        self.remove_dirs()
    }

    /// [`Cgroup::destroy`] that keeps the parents (such as `box/`): for a runtime whose
    /// containers share a parent, removing and re-creating it on every run costs a `mkdir`,
    /// an `rmdir` and (v1) a cpuset copy per hierarchy, and races with a sibling being created.
    pub fn destroy_keep_parents(&self) -> Result<(), Error> {
        // Usually nothing is left (a container ends when its pid namespace's init does):
        // `rmdir` succeeds only on an empty cgroup, so try that before listing each
        // hierarchy's processes.
        if self.remove_empty_leaves()? {
            return Ok(());
        }
        self.kill_all(DESTROY_TIMEOUT)?;
        self.remove_leaves()
    }

    /// SIGKILL everything inside and wait until no process is left.
    pub fn kill_all(&self, timeout: Duration) -> Result<(), Error> {
        let start = Instant::now();
        let v2_kill = self
            .v2
            .as_ref()
            .map(|d| &d.dir)
            .filter(|d| fs::exists(d, "cgroup.kill"));
        let freezer_dir = self.v1_dir(Controller::Freezer);
        let mut last_round: Option<Instant> = None;
        let mut pause = Duration::from_micros(500);
        loop {
            let pids = self.procs()?;
            if pids.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(Error::StillPopulated {
                    path: self.rel.clone(),
                    pids: pids.iter().map(|p| p.as_raw()).collect(),
                    waited_ms: start.elapsed().as_millis(),
                });
            }
            if last_round.map_or(true, |t| t.elapsed() >= KILL_ROUND) {
                last_round = Some(Instant::now());
                // v2's cgroup.kill reaches every task, even ones forking right now.
                if let Some(dir) = v2_kill {
                    ignore_gone(fs::write(dir, "cgroup.kill", "1"))?;
                }
                match freezer_dir {
                    Some(fz) => self.kill_frozen(fz)?,
                    None => self.kill_listed()?,
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Freeze (so nothing forks), SIGKILL each listed process, thaw so they can die.
    fn kill_frozen(&self, freezer_dir: &Dir) -> Result<(), Error> {
        ignore_gone(freezer::freeze(freezer_dir, FREEZE_TIMEOUT).map(drop))?;
        let killed = self.kill_listed();
        // Always thaw: a frozen task cannot act on SIGKILL.
        ignore_gone(freezer::thaw(freezer_dir))?;
        killed
    }

    fn kill_listed(&self) -> Result<(), Error> {
        for pid in self.procs()? {
            match kill(pid, Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(errno) => {
                    return Err(Error::Kill {
                        pid: pid.as_raw(),
                        path: self.rel.clone(),
                        errno,
                    })
                }
            }
        }
        Ok(())
    }

    /// rmdir the container's directories, then its empty parents up to (not including) each
    /// hierarchy's root. Parents still holding other containers stay.
    pub(super) fn remove_dirs(&self) -> Result<(), Error> {
        self.remove_leaves()?;
        for dir in self.leaf_dirs() {
            prune_parents(dir);
        }
        Ok(())
    }

    /// rmdir the container's own directory on every hierarchy until one is still populated
    /// (`EBUSY`, also a moment after its last process was reaped): whether all are gone. A
    /// directory removed here reads as empty to [`Cgroup::kill_all`].
    fn remove_empty_leaves(&self) -> Result<bool, Error> {
        for dir in self.leaf_dirs() {
            if !rmdir_leaf(dir)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// rmdir the container's own directory on every hierarchy.
    pub(super) fn remove_leaves(&self) -> Result<(), Error> {
        let start = Instant::now();
        for dir in self.leaf_dirs() {
            remove_leaf(dir, start)?;
        }
        Ok(())
    }
}

/// rmdir a now-empty leaf; EBUSY can linger a moment after the last task exits.
fn remove_leaf(dir: &Dir, start: Instant) -> Result<(), Error> {
    while !rmdir_leaf(dir)? {
        if start.elapsed() >= Duration::from_secs(1) {
            return Err(Error::Rmdir {
                path: dir.path().to_path_buf(),
                errno: Errno::EBUSY,
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// rmdir a leaf: whether it is gone (`false`: still populated, `EBUSY`).
fn rmdir_leaf(dir: &Dir) -> Result<bool, Error> {
    match fs::rmdir(dir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(true),
        Err(Errno::EBUSY) => Ok(false),
        Err(errno) => Err(Error::Rmdir {
            path: dir.path().to_path_buf(),
            errno,
        }),
    }
}

/// Remove `leaf`'s ancestors below the hierarchy's root, deepest first, while they are empty,
/// each only while nobody else holds it: no creator about to make a directory in it, no
/// owner (a nested cgroup's parent may be a live cgroup). See [`lock`]. A creator waiting for
/// the lock meanwhile finds its parent gone and makes it again.
///
/// A parent someone holds is tried again a few times: a sibling's pruner holds it only for
/// its `rmdir`, which fails while this leaf is still there; giving up at once would leave
/// the parent to nobody (seen once in CI). One that stays held is a live cgroup's.
fn prune_parents(leaf: &Dir) {
    let mut parent = leaf.parent();
    while let Some(p) = parent.filter(|p| !p.is_root()) {
        let mut tries = 1;
        let _held = loop {
            match lock::try_exclusive(&p) {
                Ok(Attempt::Got(fd)) => break fd,
                Ok(Attempt::Busy) if tries < PRUNE_TRIES => {
                    tries += 1;
                    std::thread::sleep(PRUNE_PAUSE);
                }
                _ => return,
            }
        };
        // EBUSY/ENOTEMPTY: a sibling lives there; ENOENT: someone pruned it already.
        if fs::rmdir(&p).is_err() {
            return;
        }
        parent = p.parent();
    }
}

/// How often, and how far apart, a pruner tries a parent that someone holds.
const PRUNE_TRIES: u32 = 5;
const PRUNE_PAUSE: Duration = Duration::from_millis(1);

/// A control file that vanished means its cgroup is gone, which is what we want.
fn ignore_gone(r: Result<(), Error>) -> Result<(), Error> {
    match r {
        Err(Error::Write {
            errno: Errno::ENOENT | Errno::ENODEV,
            ..
        })
        | Err(Error::Read {
            errno: Errno::ENOENT | Errno::ENODEV,
            ..
        }) => Ok(()),
        other => other,
    }
}
