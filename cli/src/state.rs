//! Container state on disk: one directory per container under a root (`/run/box` by default),
//! `state.json` replaced atomically (write a temporary file, then rename), and a `lock` file
//! that every reader-modifier holds (flock) while it reads, changes and writes the state.
//!
//! ```text
//! ROOT/NAME/lock         flock'ed around each read-modify-write
//! ROOT/NAME/state.json   the State below
//! ROOT/NAME/log          the container's stdout and stderr (detached mode), written by its
//!                        monitor only
//! ```
//!
//! Every path here is built from a [`Name`], so no name can lead out of the root; directories
//! are 0700 and files 0600, created without following symlinks.

mod files;
mod proc;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

pub use proc::{alive, now_rfc3339, ProcessId};

use crate::name::Name;

/// Where state lives when neither `--root` nor `BOX_ROOT` says otherwise.
pub const DEFAULT_ROOT: &str = "/run/box";

/// What the state file records; [`State::status`] checks it against the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recorded {
    /// Being started by its monitor.
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
    /// The monitor process that is the container's parent.
    pub monitor: Option<ProcessId>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// Why the start failed, when it did.
    pub error: Option<String>,
    /// The box.toml it came from.
    pub file: PathBuf,
    pub spec: box_launcher::Spec,
}

/// A container's status as `ps` and `inspect` show it: the record checked against the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
    /// Recorded as running, but its monitor is gone: nobody will record how it ended.
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

impl State {
    /// The truthful status: a record of created/running is believed only while the monitor
    /// (and, once running, the container) are alive.
    pub fn status(&self) -> Status {
        let monitor_alive = self.monitor.is_some_and(|m| alive(&m));
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

    /// Whether the log holds all the container will ever write: its monitor copies the output
    /// pipe into the log until the end and only then records the exit, so a container that
    /// is merely dead (status `exited` while the monitor still runs) may have more on the way.
    pub fn output_complete(&self) -> bool {
        self.recorded == Recorded::Exited || !self.monitor.is_some_and(|m| alive(&m))
    }

    /// The live PID 1 of a running container.
    pub fn running_pid(&self) -> Option<i32> {
        (self.status() == Status::Running)
            .then_some(self.pid)
            .flatten()
            .map(|p| p.pid)
    }
}

/// The state root directory.
#[derive(Debug, Clone)]
pub struct Root(PathBuf);

/// The state directory of one container, locked for as long as this lives.
pub struct Locked {
    dir: PathBuf,
    _lock: Flock<File>,
}

impl Root {
    /// `--root`, else `$BOX_ROOT`, else `/run/box`.
    pub fn new(flag: Option<PathBuf>) -> Root {
        let dir = flag
            .or_else(|| std::env::var_os("BOX_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        Root(dir)
    }

    /// The container's directory: a [`Name`] is one path component, never `..` or a `/`.
    pub fn dir(&self, name: &Name) -> PathBuf {
        self.0.join(name.as_str())
    }

    pub fn log_path(&self, name: &Name) -> PathBuf {
        self.dir(name).join(LOG)
    }

    /// Creates the container's log afresh (0600, never through a symlink) and opens it for
    /// appending; a log left by an earlier container of that name goes first.
    pub fn create_log(&self, name: &Name) -> Result<File> {
        files::create_fresh(&self.log_path(name))
    }

    /// Locks the container's directory; `create` makes it when missing (0700, and the root
    /// too when it is missing).
    pub fn lock(&self, name: &Name, create: bool) -> Result<Locked> {
        let dir = self.dir(name);
        if create {
            files::private_dir(&self.0, true)?;
            files::private_dir(&dir, false)?;
        }
        let path = dir.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => no_such(name),
                _ => anyhow!("open {}: {e}", path.display()),
            })?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| anyhow!("lock {}: {errno}", path.display()))?;
        // `rm` may have removed the directory while we waited: our lock is then on a file
        // nobody else will ever lock again.
        let same = std::fs::metadata(&path)
            .ok()
            .zip(lock.metadata().ok())
            .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
        if !same {
            bail!("container {name:?} was removed meanwhile");
        }
        Ok(Locked { dir, _lock: lock })
    }

    /// Reads a container's state: a consistent snapshot, without taking the lock. A writer
    /// replaces `state.json` by removing it and renaming the new one in (see
    /// [`Locked::write`]); a reader that falls in between finds no file but the lock, and reads
    /// again once the writer is done.
    pub fn load(&self, name: &Name) -> Result<State> {
        let dir = self.dir(name);
        match read_state(&dir, name) {
            Err(_) if dir.join("lock").exists() && !dir.join("state.json").exists() => self
                .lock(name, false)?
                .read(name)?
                .ok_or_else(|| no_such(name)),
            other => other,
        }
    }

    /// Every container's name that has a state directory, sorted (entries that are no valid
    /// name are not containers of box's).
    pub fn names(&self) -> Result<Vec<Name>> {
        let entries = match std::fs::read_dir(&self.0) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => bail!("read {}: {e}", self.0.display()),
        };
        let mut names: Vec<Name> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("lock").exists())
            .filter_map(|e| Name::parse(e.file_name().to_str()?).ok())
            .collect();
        names.sort();
        Ok(names)
    }
}

impl Locked {
    /// The state, if one was ever written.
    pub fn read(&self, name: &Name) -> Result<Option<State>> {
        if !self.dir.join("state.json").exists() {
            return Ok(None);
        }
        read_state(&self.dir, name).map(Some)
    }

    /// Replaces `state.json`: readers see the old or the new file, never half.
    /// No fsync: the state describes processes that do not outlive a reboot (runc and crun do
    /// not sync theirs either), and on a disk-backed `/run` each sync cost up to 6 ms of a
    /// detached start.
    pub fn write(&self, state: &State) -> Result<()> {
        let tmp = self
            .dir
            .join(format!("state.json.tmp-{}", std::process::id()));
        let text = serde_json::to_vec_pretty(state)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("write {}", tmp.display()))?;
        file.write_all(&text)
            .with_context(|| format!("write {}", tmp.display()))?;
        // Renaming over an existing file makes ext4 (auto_da_alloc) write the new file's data
        // out first: ~2 ms per update where /run is on disk, as on this project's machines.
        // So the old file goes first; we hold the lock, and lock-free readers that find
        // neither file wait for the lock and read again (Root::load).
        let target = self.dir.join("state.json");
        match std::fs::remove_file(&target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("replace {}", target.display()))
            }
            _ => {}
        }
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("rename {} to state.json", tmp.display()))
    }

    /// Removes the container's directory (the lock goes with it; waiters see that).
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.dir).with_context(|| format!("remove {}", self.dir.display()))
    }
}

/// The log's file name in a container's directory.
const LOG: &str = "log";

fn read_state(dir: &Path, name: &Name) -> Result<State> {
    let path = dir.join("state.json");
    let text = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => no_such(name),
        _ => anyhow!("read {}: {e}", path.display()),
    })?;
    serde_json::from_slice(&text).with_context(|| format!("parse {}", path.display()))
}

fn no_such(name: &Name) -> anyhow::Error {
    anyhow!("no such container: {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    #[test]
    fn root_prefers_the_flag() {
        let root = Root::new(Some("/x".into()));
        assert_eq!(root.dir(&name("c1")), Path::new("/x/c1"));
    }

    #[test]
    fn missing_container_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::new(Some(tmp.path().into()));
        let err = root.load(&name("nope")).unwrap_err().to_string();
        assert_eq!(err, "no such container: nope");
        assert!(root.lock(&name("nope"), false).is_err());
        assert!(root.names().unwrap().is_empty());
    }

    #[test]
    fn state_is_private_and_listing_skips_strangers() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("state");
        let root = Root::new(Some(top.clone()));
        let c1 = name("c1");
        drop(root.lock(&c1, true).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&top), 0o700);
        assert_eq!(mode(&root.dir(&c1)), 0o700);
        std::fs::create_dir(top.join("..x")).unwrap();
        std::fs::write(top.join("..x/lock"), "").unwrap();
        assert_eq!(root.names().unwrap(), vec![c1]);
    }

    #[test]
    fn a_symlinked_container_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let root = Root::new(Some(tmp.path().join("state")));
        std::fs::create_dir(tmp.path().join("state")).unwrap();
        std::os::unix::fs::symlink(&outside, tmp.path().join("state/c1")).unwrap();
        assert!(root.lock(&name("c1"), true).is_err());
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
    }
}
