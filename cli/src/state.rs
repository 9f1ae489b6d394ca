//! Container state on disk: one directory per container under a root (`/run/box` by default).
//!
//! ```text
//! ROOT/NAME/lock         flock'ed around every change (claim, record, removal); its content
//!                        is the claim (the monitor's pid and start time) and an exit slot
//!                        reserved for a full disk (see owner.rs)
//! ROOT/NAME/state.json   the State below, replaced whole (see record::replace)
//! ROOT/NAME/log          the container's stdout and stderr (detached mode), written by its
//!                        monitor only
//! ```
//!
//! Readers take no lock: every file is replaced or overwritten whole. Only the monitor that
//! claimed a name writes its record ([`Owned`]); `rm` removes directories nobody watches.
//! What the record says is checked against the kernel (processes by pid and start time, the
//! cgroup), and an entry whose record is damaged is still listed, stopped and removed.
//!
//! Every path here is built from a [`Name`], so no name can lead out of the root; directories
//! are 0700 and files 0600, created without following symlinks.

mod claim;
mod entry;
mod files;
mod kernel;
mod owner;
mod proc;
mod record;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

pub use claim::Owned;
pub use entry::Entry;
pub use kernel::remove_orphan_cgroup;
pub use proc::{alive, now_rfc3339, ProcessId};
pub use record::{Recorded, State, Status};

use crate::name::Name;

/// Where state lives when neither `--root` nor `BOX_ROOT` says otherwise.
pub const DEFAULT_ROOT: &str = "/run/box";

/// The lock file's name in a container's directory.
const LOCK: &str = "lock";
/// The log's file name in a container's directory.
const LOG: &str = "log";

/// How long a reader waits for a writer before it reports what it found without the lock.
const READ_LOCK_WAIT: Duration = Duration::from_secs(2);

/// The cgroup of container `name` (relative to each hierarchy's root), as the config makes
/// it; used when the record that says so is damaged.
pub fn cgroup_path(name: &Name) -> PathBuf {
    Path::new("box").join(name.as_str())
}

/// The state root directory.
#[derive(Debug, Clone)]
pub struct Root(PathBuf);

/// What [`Root::lock`] may create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Nothing: the container's lock file must exist.
    Nothing,
    /// The lock file, in a directory that exists (an entry a claim left without one).
    Lock,
    /// The root, the container's directory and its lock file (a claim).
    All,
}

/// The state directory of one container, locked for as long as this lives.
pub struct Locked {
    name: Name,
    dir: PathBuf,
    lock: Flock<File>,
}

impl Root {
    /// `--root`, else `$BOX_ROOT`, else `/run/box`.
    pub fn new(flag: Option<PathBuf>) -> Root {
        let dir = flag
            .or_else(|| std::env::var_os("BOX_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        // Absolute: an overlay root's upper and work directories live here and become mount
        // options (the current directory cannot be unavailable to a process that got here).
        Root(std::path::absolute(&dir).unwrap_or(dir))
    }

    /// The container's directory: a [`Name`] is one path component, never `..` or a `/`.
    pub fn dir(&self, name: &Name) -> PathBuf {
        self.0.join(name.as_str())
    }

    /// The absolute directory of container `name` (a name box.toml gives, checked later; an
    /// invalid one gets a path that is never used).
    pub fn container_dir(&self, name: &str) -> PathBuf {
        let dir = match Name::parse(name) {
            Ok(name) => self.dir(&name),
            Err(_) => self.0.join("invalid-name"),
        };
        std::path::absolute(&dir).unwrap_or(dir)
    }

    pub fn log_path(&self, name: &Name) -> PathBuf {
        self.dir(name).join(LOG)
    }

    /// Creates the container's log afresh (0600, never through a symlink) and opens it for
    /// appending; a log left by an earlier container of that name goes first.
    pub fn create_log(&self, name: &Name) -> Result<File> {
        files::create_fresh(&self.log_path(name)).with_context(|| format!("container {name}"))
    }

    /// Creates the times of the container's log lines afresh, as [`Root::create_log`].
    pub fn create_times(&self, name: &Name) -> Result<File> {
        files::create_fresh(&self.times_path(name)).with_context(|| format!("container {name}"))
    }

    pub fn times_path(&self, name: &Name) -> PathBuf {
        self.dir(name).join(crate::commands::logtimes::TIMES)
    }

    /// Locks the container's directory (see [`Create`]). Fails when the directory was removed
    /// while we waited for the lock: our lock is then on a file nobody else will lock again.
    ///
    /// A claim makes the directory and its lock file, and takes that lock, while it holds the
    /// root directory's own flock: so an entry never looks abandoned (a directory without a
    /// locked lock file) while its claim is only between two of those steps. Whoever finds
    /// an entry without a record passes through the root's lock first ([`Root::claims_settled`]).
    pub fn lock(&self, name: &Name, create: Create) -> Result<Locked> {
        let dir = self.dir(name);
        let in_claim = |e: anyhow::Error| e.context(format!("container {name}"));
        let lock = if create == Create::All {
            files::private_dir(&self.0, true).map_err(in_claim)?;
            let root = self.lock_root(FlockArg::LockExclusive).map_err(in_claim)?;
            files::private_dir(&dir, false).map_err(in_claim)?;
            let file = open_lock(&dir, name, create)?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => Ok(lock),
                // Someone works on an entry that exists: wait for it without the root's lock.
                Err((file, Errno::EWOULDBLOCK)) => {
                    drop(root);
                    Flock::lock(file, FlockArg::LockExclusive)
                }
                Err(e) => Err(e),
            }
        } else {
            if create == Create::Lock {
                self.claims_settled();
            }
            Flock::lock(open_lock(&dir, name, create)?, FlockArg::LockExclusive)
        };
        let lock = lock.map_err(|(_, errno)| {
            anyhow!(
                "container {name}: lock {}: {errno}",
                dir.join(LOCK).display()
            )
        })?;
        if !same_file(&dir.join(LOCK), &lock) {
            bail!("container {name} was removed meanwhile");
        }
        Ok(Locked {
            name: name.clone(),
            dir,
            lock,
        })
    }

    /// The root directory's flock (see [`Root::lock`]).
    fn lock_root(&self, how: FlockArg) -> Result<Flock<File>> {
        let fail = |e: String| anyhow!("lock the state root {}: {e}", self.0.display());
        let file = self.open_root().map_err(|e| fail(e.to_string()))?;
        Flock::lock(file, how).map_err(|(_, errno)| fail(errno.to_string()))
    }

    fn open_root(&self) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.0)
    }

    /// Waits (at most [`READ_LOCK_WAIT`]) until no claim is between making an entry and
    /// locking it: from then on an entry without a locked lock file is nobody's claim.
    fn claims_settled(&self) {
        let Ok(mut file) = self.open_root() else {
            return;
        };
        let start = Instant::now();
        loop {
            match Flock::lock(file, FlockArg::LockSharedNonblock) {
                Err((back, Errno::EWOULDBLOCK)) if start.elapsed() < READ_LOCK_WAIT => file = back,
                _ => return,
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The container's entry, read without the lock. A record that is missing or unreadable
    /// is read again once no claim is between its steps, under the entry's lock (waiting at
    /// most [`READ_LOCK_WAIT`] for each): a claim in progress then shows as what it is once
    /// done, and what is still missing is damage.
    pub fn entry(&self, name: &Name) -> Result<Entry> {
        let dir = self.dir(name);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Err(no_such(name));
        }
        let entry = Entry::read(&dir, name);
        if entry.state().is_some() {
            return Ok(entry);
        }
        self.claims_settled();
        match self.lock_within(name, READ_LOCK_WAIT) {
            Some(locked) => Ok(locked.entry()),
            None if !dir.exists() => Err(no_such(name)),
            None => Ok(entry),
        }
    }

    /// A container's readable record (for commands that need its spec or pid); a damaged
    /// entry is an error that says how to get rid of it.
    pub fn load(&self, name: &Name) -> Result<State> {
        let entry = self.entry(name)?;
        match entry.record {
            Ok(state) => Ok(state),
            Err(why) => Err(anyhow!(
                "container {name} has no readable record ({why}); `box stop {name}` and `box rm -f {name}` still work"
            )),
        }
    }

    /// Every directory of the root whose name is a container's, sorted: entries without a
    /// record or a lock file (a claim that never finished) included. Symlinks and entries
    /// that are no valid name are not containers of box's.
    pub fn names(&self) -> Result<Vec<Name>> {
        let entries = match std::fs::read_dir(&self.0) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => bail!("read {}: {e}", self.0.display()),
        };
        let mut names: Vec<Name> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| Name::parse(e.file_name().to_str()?).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The lock, if it can be had within `wait` (readers must not hang on a stuck writer).
    fn lock_within(&self, name: &Name, wait: Duration) -> Option<Locked> {
        let dir = self.dir(name);
        let start = Instant::now();
        let mut file = open_lock(&dir, name, Create::Nothing).ok()?;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) if same_file(&dir.join(LOCK), &lock) => {
                    return Some(Locked {
                        name: name.clone(),
                        dir,
                        lock,
                    })
                }
                Ok(_) => return None,
                Err((back, Errno::EWOULDBLOCK)) if start.elapsed() < wait => file = back,
                Err(_) => return None,
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Locked {
    /// The entry, as no writer can change it now.
    pub fn entry(&self) -> Entry {
        Entry::read(&self.dir, &self.name)
    }

    /// Removes the container's directory (the lock goes with it; waiters see that).
    pub fn remove(self) -> Result<()> {
        std::fs::remove_dir_all(&self.dir)
            .with_context(|| format!("container {}: remove {}", self.name, self.dir.display()))
    }
}

/// Opens `dir/lock` (read-write, close-on-exec, never through a symlink).
fn open_lock(dir: &Path, name: &Name, create: Create) -> Result<File> {
    let path = dir.join(LOCK);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create != Create::Nothing)
        .truncate(false)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if create == Create::All => {
                anyhow!("container {name} was removed meanwhile")
            }
            std::io::ErrorKind::NotFound => no_such(name),
            _ => anyhow!("container {name}: open {}: {e}", path.display()),
        })
}

/// Whether `path` still names the file `file` has open.
fn same_file(path: &Path, file: &File) -> bool {
    std::fs::metadata(path)
        .ok()
        .zip(file.metadata().ok())
        .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev())
}

fn no_such(name: &Name) -> anyhow::Error {
    anyhow!("no such container: {name}")
}
