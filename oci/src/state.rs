//! box-runc's record of its containers: one directory per id under `--root` (default
//! `/run/box-runc`), holding `state.json` (replaced atomically: written aside, renamed over)
//! and, until `start`, `exec.fifo`. Commands on one container take an exclusive `flock` on
//! its directory, so that `start`, `kill` and `delete` do not interleave.
//!
//! Whether the container's process still lives is asked of the kernel, never assumed: the
//! record holds its pid and its start time (`/proc/PID/stat`), and a pid that now names
//! another process means the container stopped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::convert::Hooks;

pub const DEFAULT_ROOT: &str = "/run/box-runc";
pub const FIFO: &str = "exec.fifo";
const STATE: &str = "state.json";

/// runc's rule for ids: letters, digits and `_+.-`, not `.` or `..`; they name a directory.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+.-".contains(&b));
    if !ok {
        bail!("invalid container id {id:?}: use letters, digits and _+.- only");
    }
    Ok(())
}

/// What `create` recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub pid: i32,
    /// The process's start time in clock ticks since boot, `/proc/PID/stat`'s 22nd field.
    pub start_time: u64,
    pub bundle: PathBuf,
    /// RFC 3339, UTC.
    pub created: String,
    pub annotations: BTreeMap<String, String>,
    pub spec: box_launcher::Spec,
    pub hooks: Hooks,
}

/// The OCI states, as `state` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// The directory of all containers.
pub struct Root(pub PathBuf);

impl Root {
    pub fn dir(&self, id: &str) -> PathBuf {
        self.0.join(id)
    }

    /// Every id with a directory, sorted.
    pub fn ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let entries = match std::fs::read_dir(&self.0) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(e).with_context(|| format!("read {}", self.0.display())),
        };
        for entry in entries.flatten() {
            if let Some(name) = entry.file_name().to_str() {
                if check_id(name).is_ok() {
                    ids.push(name.to_string());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Makes the directory of a new container and locks it; fails if the id is taken.
    pub fn claim(&self, id: &str) -> Result<Locked> {
        check_id(id)?;
        std::fs::create_dir_all(&self.0)
            .with_context(|| format!("create state root {}", self.0.display()))?;
        let dir = self.dir(id);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("container {id:?} already exists")
            }
            Err(e) => return Err(e).with_context(|| format!("create {}", dir.display())),
        }
        Locked::lock(dir)
    }

    /// Locks an existing container's directory.
    pub fn open(&self, id: &str) -> Result<Locked> {
        check_id(id)?;
        let dir = self.dir(id);
        if !dir.is_dir() {
            bail!("container {id:?} does not exist");
        }
        Locked::lock(dir)
    }
}

/// A container's directory, held exclusively.
pub struct Locked {
    pub dir: PathBuf,
    _lock: Flock<File>,
}

impl Locked {
    fn lock(dir: PathBuf) -> Result<Locked> {
        let file = File::open(&dir).with_context(|| format!("open {}", dir.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("lock {}", dir.display()))?;
        Ok(Locked { dir, _lock: lock })
    }

    pub fn fifo(&self) -> PathBuf {
        self.dir.join(FIFO)
    }

    pub fn read(&self) -> Result<Record> {
        let path = self.dir.join(STATE);
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))
    }

    /// Written aside and renamed over the old one: a reader sees the old or the new record.
    pub fn write(&self, record: &Record) -> Result<()> {
        let path = self.dir.join(STATE);
        let aside = self.dir.join(".state.json.new");
        let mut file =
            File::create(&aside).with_context(|| format!("create {}", aside.display()))?;
        file.write_all(&serde_json::to_vec(record)?)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("write {}", aside.display()))?;
        std::fs::rename(&aside, &path).with_context(|| format!("replace {}", path.display()))
    }

    /// Removes the directory and everything in it.
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.dir).with_context(|| format!("remove {}", self.dir.display()))
    }
}

impl Record {
    /// The process, if it is still the one `create` started.
    pub fn live_pid(&self) -> Option<Pid> {
        (self.pid > 0 && start_time(self.pid) == Some(self.start_time))
            .then(|| Pid::from_raw(self.pid))
    }

    /// What the kernel says: stopped once the process is gone (or a zombie), created while
    /// the fifo is there, paused while the cgroup is frozen.
    pub fn status(&self, dir: &Path) -> Status {
        if self.live_pid().is_none() || is_zombie(self.pid) {
            return Status::Stopped;
        }
        if dir.join(FIFO).exists() {
            return Status::Created;
        }
        if crate::cgroup::open(&self.spec).is_ok_and(|cg| cg.is_frozen().unwrap_or(false)) {
            return Status::Paused;
        }
        Status::Running
    }
}

/// `/proc/PID/stat`'s start time; `None` when there is no such process.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with('Z')))
        .unwrap_or(false)
}

/// Opens the fifo `start` writes to: read-write, so that the held process's read blocks
/// until a byte comes instead of seeing EOF.
pub fn make_fifo(path: &Path) -> Result<std::os::fd::OwnedFd> {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .with_context(|| format!("mkfifo {}", path.display()))?;
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .with_context(|| format!("open {}", path.display()))?;
    Ok(fd)
}

/// Tells the held process to go: fails (ENXIO) when nobody holds the fifo's read side, i.e.
/// the process is gone.
pub fn write_fifo(path: &Path) -> Result<()> {
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .with_context(|| format!("open {} (is the container's process gone?)", path.display()))?;
    nix::unistd::write(fd.as_fd(), b"s").with_context(|| format!("write {}", path.display()))?;
    Ok(())
}

/// Now, in RFC 3339 (UTC, nanoseconds), without a date crate: days from the civil calendar.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runcs_rule() {
        for good in ["abc", "a.b-c_d+e", "0123456789abcdef"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "../x", "é"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn our_own_start_time_is_read() {
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some());
        assert_eq!(start_time(me), start_time(me));
    }

    #[test]
    fn rfc3339_has_the_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), "2026-01-01T00:00:00.000000000Z".len(), "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
