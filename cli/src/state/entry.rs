//! One container's directory as every command sees it: the record, or why there is none, and
//! what the lock file and the kernel add to it.

use std::path::{Path, PathBuf};

use super::owner;
use super::proc::{alive, ProcessId};
use super::record::{self, Recorded, State, Status};
use crate::name::Name;

/// What a container's directory says, checked against the kernel.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: Name,
    /// The record; `Err` says why there is none (missing, unreadable), naming the file.
    pub record: Result<State, String>,
    /// The monitor the lock file names (read when the record cannot say).
    pub claimed_by: Option<ProcessId>,
    /// Set when the exit comes from the lock file's slot: why `state.json` could not say it.
    pub note: Option<String>,
}

impl Entry {
    /// Reads the entry in `dir` (with or without the lock: every file is replaced or
    /// overwritten whole, see [`record::replace`] and [`owner`]).
    pub(super) fn read(dir: &Path, name: &Name) -> Entry {
        let settled = |record: &Result<State, String>| {
            record
                .as_ref()
                .is_ok_and(|s| s.recorded == Recorded::Exited || s.monitor_alive())
        };
        let mut record = record::read(dir);
        if !settled(&record) {
            // The monitor may have recorded the end and died since the read: gone, it writes
            // nothing more, so this second read is final.
            record = record::read(dir);
        }
        let settled = settled(&record);
        let mut entry = Entry {
            name: name.clone(),
            record,
            claimed_by: None,
            note: None,
        };
        if settled {
            return entry;
        }
        // The record cannot say it all: a monitor that is gone may have left its exit in the
        // lock file, and a damaged record names no monitor.
        let contents = owner::read(&dir.join(super::LOCK));
        entry.claimed_by = contents.claim.map(|c| c.monitor);
        if let (Ok(state), Some(exit)) = (&mut entry.record, contents.exit) {
            if state.monitor == Some(exit.monitor) {
                state.recorded = Recorded::Exited;
                state.finished_at = Some(exit.finished_at);
                state.exit_code = exit.exit_code;
                state.oom_killed = exit.oom_killed;
                state.error = exit.error;
                entry.note = Some(format!(
                    "the exit was recorded in {} because {}",
                    dir.join(super::LOCK).display(),
                    exit.why
                ));
            }
        }
        entry
    }

    /// The record, if it is readable.
    pub fn state(&self) -> Option<&State> {
        self.record.as_ref().ok()
    }

    /// Why there is no readable record.
    pub fn damage(&self) -> Option<&str> {
        self.record.as_ref().err().map(String::as_str)
    }

    pub fn status(&self) -> Status {
        match &self.record {
            Ok(state) => state.status(),
            Err(_) => Status::Damaged,
        }
    }

    /// The monitor: the record's, else the one the lock file names.
    pub fn monitor(&self) -> Option<ProcessId> {
        match &self.record {
            Ok(state) => state.monitor,
            Err(_) => self.claimed_by,
        }
    }

    /// Whether the log holds all the container will ever write: its monitor copies the output
    /// pipe into the log until the end and only then records the exit, so a container that
    /// is merely dead (status `exited` while the monitor still runs) may have more on the way.
    pub fn output_complete(&self) -> bool {
        let recorded = self.state().is_some_and(|s| s.recorded == Recorded::Exited);
        recorded || self.live_monitor().is_none()
    }

    /// The monitor, while it is alive.
    pub fn live_monitor(&self) -> Option<ProcessId> {
        self.monitor().filter(alive)
    }

    /// Whether its monitor is still starting it: nothing can be signalled yet.
    pub fn starting(&self) -> bool {
        match &self.record {
            Ok(state) => state.status() == Status::Created,
            Err(_) => self.live_monitor().is_some() && self.container_process().is_none(),
        }
    }

    /// The cgroup of the container, relative to each hierarchy's root.
    pub fn cgroup_path(&self) -> PathBuf {
        self.state()
            .and_then(|s| s.spec.cgroup.as_ref())
            .map_or_else(|| super::cgroup_path(&self.name), |cg| cg.path.clone())
    }

    /// The container's PID 1 while it runs: the record's, or, when the record is damaged, the
    /// process of its cgroup whose parent is the live monitor (the kernel's word).
    pub fn container_process(&self) -> Option<ProcessId> {
        match &self.record {
            Ok(state) => state.running(),
            Err(_) => {
                let monitor = self.live_monitor()?;
                super::kernel::child_in_cgroup(monitor.pid, &self.cgroup_path())
            }
        }
    }
}
