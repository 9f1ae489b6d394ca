use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::Mode as FileMode;
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};

use crate::{Error, Kind};

/// How a container gets one kind of namespace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A fresh namespace of its own.
    New,
    /// The namespace of the process that starts it (Docker's `--network=host`).
    Host,
    /// Join an existing namespace: `/proc/PID/ns/KIND` or a bind-mounted namespace file.
    Join(PathBuf),
}

/// The mode of every namespace kind of one container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NsConfig(pub BTreeMap<Kind, Mode>);

impl Default for NsConfig {
    /// Docker's defaults: new cgroup, ipc, mnt, net, pid and uts namespaces; the host's user
    /// and time namespaces.
    fn default() -> Self {
        let modes = Kind::ALL.into_iter().map(|kind| {
            let mode = match kind {
                Kind::User | Kind::Time => Mode::Host,
                _ => Mode::New,
            };
            (kind, mode)
        });
        NsConfig(modes.collect())
    }
}

impl NsConfig {
    /// The mode of `kind` (a kind left out means the host's).
    pub fn mode(&self, kind: Kind) -> &Mode {
        self.0.get(&kind).unwrap_or(&Mode::Host)
    }

    /// Sets the mode of `kind`.
    pub fn set(&mut self, kind: Kind, mode: Mode) {
        self.0.insert(kind, mode);
    }

    /// The kinds that get a new namespace.
    pub fn new_kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.0
            .iter()
            .filter(|(_, m)| **m == Mode::New)
            .map(|(k, _)| *k)
    }

    /// The clone flags of every kind that gets a new namespace.
    pub fn clone_flags(&self) -> CloneFlags {
        Kind::flags_of(self.new_kinds())
    }
}

/// Namespaces to join, opened (and checked to be of the right kind) ahead of time, so that a
/// bad path fails before anything is created and the joining child does no path lookups.
#[derive(Debug, Default)]
pub struct Joins(Vec<(Kind, PathBuf, OwnedFd)>);

/// `path`, opened for reading only once an `O_PATH` look says it is a file of nsfs.
fn open_namespace_file(kind: Kind, path: &Path) -> Result<File, Error> {
    let open_err = |errno| Error::OpenJoin {
        path: path.to_path_buf(),
        errno,
    };
    let look = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, FileMode::empty())
        .map_err(open_err)?;
    if !fstatfs(&look).is_ok_and(|fs| fs.filesystem_type() == NSFS_MAGIC) {
        return Err(Error::WrongKind {
            path: path.to_path_buf(),
            kind: kind.proc_name(),
        });
    }
    File::options()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(format!("/proc/self/fd/{}", look.as_raw_fd()))
        .map_err(|e| open_err(Errno::from_raw(e.raw_os_error().unwrap_or(0))))
}

/// `ioctl(NS_GET_NSTYPE)`: which kind a namespace fd refers to.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

impl Joins {
    /// Opens every `Mode::Join` path of `config`.
    ///
    /// A path is first looked at through an `O_PATH` descriptor, which opens nothing: only a
    /// file of nsfs goes on (opening a fifo for reading would block forever, opening a device
    /// runs its driver — a watchdog arms itself). That very file is then opened for `setns`
    /// through `/proc/self/fd`, so the path cannot be swapped in between.
    pub fn open(config: &NsConfig) -> Result<Joins, Error> {
        let mut joins = Vec::new();
        for (kind, mode) in &config.0 {
            let Mode::Join(path) = mode else { continue };
            let file = open_namespace_file(*kind, path)?;
            // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd we own.
            let nstype = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE) };
            if nstype < 0 || nstype != kind.clone_flag().bits() {
                return Err(Error::WrongKind {
                    path: path.clone(),
                    kind: kind.proc_name(),
                });
            }
            joins.push((*kind, path.clone(), OwnedFd::from(file)));
        }
        // A user namespace first: it grants the rights to join the others (as nsenter does).
        joins.sort_by_key(|(kind, _, _)| *kind != Kind::User);
        Ok(Joins(joins))
    }

    /// Whether nothing is to be joined.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Joins the pid and time namespaces. These only apply to children of the caller, so the
    /// process that clones the container calls this before cloning.
    pub fn enter_for_children(&self) -> Result<(), Error> {
        self.enter_where(|k| matches!(k, Kind::Pid | Kind::Time))
    }

    /// Joins every other namespace; called in the container's process itself.
    pub fn enter(&self) -> Result<(), Error> {
        self.enter_where(|k| !matches!(k, Kind::Pid | Kind::Time))
    }

    fn enter_where(&self, wanted: impl Fn(Kind) -> bool) -> Result<(), Error> {
        for (kind, path, fd) in self.0.iter().filter(|(k, _, _)| wanted(*k)) {
            setns(fd.as_fd(), kind.clone_flag()).map_err(|errno| Error::Setns {
                kind: kind.proc_name(),
                path: path.clone(),
                errno,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_dockers() {
        let config = NsConfig::default();
        let new: Vec<Kind> = config.new_kinds().collect();
        assert_eq!(
            new,
            [
                Kind::Cgroup,
                Kind::Ipc,
                Kind::Mnt,
                Kind::Net,
                Kind::Pid,
                Kind::Uts
            ]
        );
        assert_eq!(config.mode(Kind::User), &Mode::Host);
    }

    #[test]
    fn join_checks_the_kind() {
        let mut config = NsConfig::default();
        config.set(Kind::Net, Mode::Join("/proc/self/ns/uts".into()));
        let err = Joins::open(&config).unwrap_err();
        assert!(matches!(err, Error::WrongKind { kind: "net", .. }), "{err}");
    }

    #[test]
    fn join_missing_path_names_it() {
        let mut config = NsConfig::default();
        config.set(Kind::Net, Mode::Join("/nonexistent/ns".into()));
        let err = Joins::open(&config).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ns"), "{err}");
    }

    #[test]
    fn only_nsfs_files_are_opened() {
        // Opened for reading, a fifo without a writer would block forever.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ns");
        nix::unistd::mkfifo(&fifo, FileMode::from_bits_truncate(0o600)).unwrap();
        for path in [fifo.as_path(), Path::new("/dev/null")] {
            let mut config = NsConfig::default();
            config.set(Kind::Net, Mode::Join(path.into()));
            let err = Joins::open(&config).unwrap_err();
            assert!(matches!(err, Error::WrongKind { kind: "net", .. }), "{err}");
        }
    }

    #[test]
    fn join_own_namespace_opens() {
        let mut config = NsConfig::default();
        config.set(Kind::Uts, Mode::Join("/proc/self/ns/uts".into()));
        let joins = Joins::open(&config).unwrap();
        assert!(!joins.is_empty());
    }
}
