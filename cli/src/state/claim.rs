//! Taking a name, and the handle its owner (the monitor) keeps for as long as it lives: every
//! later record it writes goes through that handle, and only while the entry is still the one
//! it claimed.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use nix::fcntl::{Flock, FlockArg};

use super::owner::{self, Claim, Exit};
use super::proc::ProcessId;
use super::record::{self, State};
use super::{Create, Entry, Locked, Root};
use crate::name::Name;

/// The claim of one name, held by its monitor: `state.monitor` of the record it wrote.
#[derive(Debug)]
pub struct Owned {
    name: Name,
    dir: PathBuf,
    /// The lock file as the claim opened it (close-on-exec); locked again for each write.
    lock: File,
    monitor: ProcessId,
}

impl Root {
    /// Takes the name `state.name` for `state.monitor` (the calling process), or fails if a
    /// container holds it: one whose monitor is alive (whatever its record says, even when
    /// damaged: the lock file names the monitor), or one that exited and was not removed.
    /// An entry nobody watches any more (`dead`, a half-written claim, a damaged record
    /// whose monitor is gone) does not hold the name; its cgroup, if left, is swept when the
    /// new container's is created.
    ///
    /// Under the lock: the lock file's claim and reserved exit slot are written first, then
    /// the record. A claim that fails half-way is undone (the directory is removed).
    pub fn claim(&self, state: &State) -> Result<Owned> {
        let name = Name::parse(&state.name)?;
        let monitor = state
            .monitor
            .ok_or_else(|| anyhow!("container {name}: a claim needs its monitor"))?;
        let locked = self.lock(&name, Create::All)?;
        let old = locked.entry();
        if let Some(status) = holder(&old) {
            let rm = if old.live_monitor().is_some() {
                "rm -f"
            } else {
                "rm"
            };
            bail!(
                "the name {:?} is already in use by a container ({status}): remove it first with `box {rm} {name}`",
                name.as_str()
            );
        }
        let written = written_claim(&locked, &name, monitor)
            .and_then(|lock| record::replace(&locked.dir, &name, state).map(|()| lock));
        match written {
            Ok(lock) => Ok(Owned {
                name,
                dir: locked.dir.clone(),
                lock,
                monitor,
            }),
            Err(e) => {
                // Undo: nothing of this claim may stay (the old entry was nobody's).
                let _ = locked.remove();
                Err(e)
            }
        }
    }
}

/// The status of the container that holds the name, if one does.
fn holder(old: &Entry) -> Option<String> {
    if let Some(monitor) = old.live_monitor() {
        return Some(match old.damage() {
            Some(_) => format!("damaged record, its monitor (pid {}) alive", monitor.pid),
            None => old.status().as_str().to_string(),
        });
    }
    match old.status() {
        super::Status::Exited => Some("exited".into()),
        _ => None,
    }
}

/// Writes the claim into the lock file; a handle of the lock file for the owner.
fn written_claim(locked: &Locked, name: &Name, monitor: ProcessId) -> Result<File> {
    let path = locked.dir.join(super::LOCK);
    let fail = |e: std::io::Error| anyhow!("container {name}: write {}: {e}", path.display());
    owner::write_claim(&locked.lock, &Claim { monitor }).map_err(fail)?;
    locked.lock.try_clone().map_err(fail)
}

impl Owned {
    /// Replaces the record, if the entry is still this claim's.
    pub fn record(&self, state: &State) -> Result<()> {
        let _held = self.hold()?;
        record::replace(&self.dir, &self.name, state)
    }

    /// Records how the container ended. When `state.json` cannot be replaced (a full disk),
    /// the exit goes into the slot the claim reserved in the lock file, which needs no new
    /// space; `Ok(Some(why))` says that happened and why.
    pub fn record_exit(&self, state: &State) -> Result<Option<String>> {
        let held = self.hold()?;
        let Err(e) = record::replace(&self.dir, &self.name, state) else {
            return Ok(None);
        };
        let why = format!("{e:#}");
        let exit = Exit {
            monitor: self.monitor,
            finished_at: state.finished_at.clone().unwrap_or_default(),
            exit_code: state.exit_code,
            oom_killed: state.oom_killed,
            error: state.error.clone(),
            why: why.clone(),
        };
        owner::write_exit(&held, &exit).map_err(|slot| {
            anyhow!(
                "{why}; and write its exit into {}: {slot}",
                self.dir.join(super::LOCK).display()
            )
        })?;
        Ok(Some(why))
    }

    /// Removes the entry (a start that failed; a foreground container that ended).
    pub fn release(self) -> Result<()> {
        let _held = self.hold()?;
        std::fs::remove_dir_all(&self.dir).map_err(|e| {
            anyhow!(
                "container {}: remove {}: {e}",
                self.name,
                self.dir.display()
            )
        })
    }

    /// The lock, taken through the claim's own file: fails when the directory was removed
    /// (`rm -f` killed a monitor that hung) or replaced by another container's since.
    fn hold(&self) -> Result<Flock<File>> {
        let path = self.dir.join(super::LOCK);
        let file = self
            .lock
            .try_clone()
            .map_err(|e| anyhow!("container {}: {}: {e}", self.name, path.display()))?;
        let held = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| {
            anyhow!("container {}: lock {}: {errno}", self.name, path.display())
        })?;
        if !super::same_file(&path, &held) {
            bail!(
                "container {}: its state directory {} was removed meanwhile",
                self.name,
                self.dir.display()
            );
        }
        Ok(held)
    }
}
