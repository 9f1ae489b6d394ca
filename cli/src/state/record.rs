//! `state.json`: what box recorded about one container, how it is replaced without a moment in
//! which a reader finds no file, and the status the record gives once checked against the
//! kernel.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use nix::errno::Errno;
use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
use serde::{Deserialize, Serialize};

use super::proc::{alive, ProcessId};
use crate::name::Name;
use box_cli::config::UsedImage;

/// The record's file name in a container's directory.
pub const STATE: &str = "state.json";

/// What the state file records; [`State::status`] checks it against the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recorded {
    /// Claimed; its monitor is starting it.
    Created,
    Running,
    Exited,
}

/// One container's state, as `state.json` holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    pub recorded: Recorded,
    /// The container's PID 1 as the host sees it, with its start time (pid reuse guard).
    pub pid: Option<ProcessId>,
    /// The process that claimed the name and starts, watches and records the container: the
    /// monitor of a detached container, `box up` itself in the foreground.
    pub monitor: Option<ProcessId>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// Why the start or the supervision failed, when it did.
    pub error: Option<String>,
    /// The box.toml it came from.
    pub file: PathBuf,
    /// The image it runs on (`box rmi` refuses to remove it while this record exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<UsedImage>,
    pub spec: box_launcher::Spec,
    /// How `box stop` ends it (`stop_signal`, `stop_timeout`); records older than it have
    /// none, which is Docker's default.
    #[serde(default)]
    pub stop: crate::config::Stop,
}

/// A container's status as `ps` and `inspect` show it: the record checked against the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Its monitor is starting it.
    Created,
    Running,
    Exited,
    /// Recorded as created or running, but its monitor is gone without recording an end.
    Dead,
    /// `state.json` is missing or unreadable; what box knows comes from the kernel.
    Damaged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Dead => "dead",
            Status::Damaged => "damaged",
        }
    }
}

impl State {
    /// The record of a name just claimed by `monitor`.
    pub fn created(
        name: &Name,
        file: &Path,
        spec: box_launcher::Spec,
        stop: crate::config::Stop,
        image: Option<UsedImage>,
        monitor: ProcessId,
    ) -> State {
        State {
            name: name.to_string(),
            recorded: Recorded::Created,
            pid: None,
            monitor: Some(monitor),
            created_at: super::now_rfc3339(),
            started_at: None,
            finished_at: None,
            exit_code: None,
            oom_killed: false,
            error: None,
            file: std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()),
            image,
            spec,
            stop,
        }
    }

    /// What `box stop` sends first: box.toml's `stop_signal`, else the image's StopSignal,
    /// else SIGTERM ([`Stop::signal`](crate::config::Stop::signal)).
    pub fn stop_signal(&self) -> nix::sys::signal::Signal {
        let image = self.image.as_ref().and_then(|i| i.stop_signal);
        crate::config::Stop {
            signal: self.stop.signal.or(image),
            ..self.stop
        }
        .signal()
    }

    pub fn monitor_alive(&self) -> bool {
        self.monitor.is_some_and(|m| alive(&m))
    }

    /// The truthful status: a record of created/running is believed only while the monitor
    /// (and, once running, the container) are alive.
    pub fn status(&self) -> Status {
        let monitor_alive = self.monitor_alive();
        match self.recorded {
            Recorded::Exited => Status::Exited,
            Recorded::Created if monitor_alive => Status::Created,
            Recorded::Running if self.pid.is_some_and(|p| alive(&p)) && monitor_alive => {
                Status::Running
            }
            // The container died and its live monitor is about to record it: not running.
            Recorded::Running if monitor_alive => Status::Exited,
            _ => Status::Dead,
        }
    }

    /// The live PID 1 of a running container.
    pub fn running_pid(&self) -> Option<i32> {
        self.running().map(|p| p.pid)
    }

    /// The identity of PID 1 while the container runs.
    pub fn running(&self) -> Option<ProcessId> {
        (self.status() == Status::Running)
            .then_some(self.pid)
            .flatten()
    }
}

/// Reads `dir/state.json`; `Err` says why there is no usable record, naming the file.
pub fn read(dir: &Path) -> Result<State, String> {
    let path = dir.join(STATE);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{} is missing", path.display()))
        }
        Err(e) => return Err(format!("read {}: {e}", path.display())),
    };
    serde_json::from_slice(&text).map_err(|e| format!("parse {}: {e}", path.display()))
}

/// Replaces `dir/state.json` with `state`: a lock-free reader opens the old file or the new
/// one, never none and never half of one.
///
/// The new file is written beside it and swapped in with `renameat2(RENAME_EXCHANGE)`, then
/// the old one (now under the temporary name) is unlinked. A plain rename over the old file
/// would do for readers too, but ext4 (auto_da_alloc) then writes the new file's data out
/// first: ~2 ms per update where /run is on disk, as on this project's machines; the exchange
/// costs what unlink + rename did (~0.1 ms). No fsync: the state describes processes that do
/// not outlive a reboot (runc and crun do not sync theirs either).
pub fn replace(dir: &Path, name: &Name, state: &State) -> Result<()> {
    let target = dir.join(STATE);
    let tmp = dir.join(format!("{STATE}.tmp-{}", std::process::id()));
    let text = serde_json::to_vec(state)
        .map_err(|e| anyhow!("container {name}: serialize its state: {e}"))?;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| file.write_all(&text));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow!("container {name}: write {}: {e}", tmp.display()));
    }
    let swapped = match renameat2(
        AT_FDCWD,
        &tmp,
        AT_FDCWD,
        &target,
        RenameFlags::RENAME_EXCHANGE,
    ) {
        // The old record now has the temporary name.
        Ok(()) => std::fs::remove_file(&tmp).map_err(|e| {
            anyhow!(
                "container {name}: remove the old record {}: {e}",
                tmp.display()
            )
        }),
        // No file to exchange with (the first record, or one removed meanwhile); or a file
        // system without RENAME_EXCHANGE: a plain rename.
        Err(Errno::ENOENT | Errno::EINVAL) => std::fs::rename(&tmp, &target).map_err(|e| {
            anyhow!(
                "container {name}: rename {} to {}: {e}",
                tmp.display(),
                target.display()
            )
        }),
        Err(errno) => Err(anyhow!(
            "container {name}: exchange {} with {}: {errno}",
            tmp.display(),
            target.display()
        )),
    };
    if swapped.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    swapped
}
