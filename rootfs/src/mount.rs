//! One mount of the container's root: where, what, from where, how. The shape of an OCI
//! `config.json` mount; Docker's default list is [`default_mounts`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::fstype::FsType;
use crate::options::{self, MountError, MountFlags, MountOptions, ReadOnly};

/// One mount, made in list order by [`setup`](crate::setup). Written and read (serde) in
/// OCI's form: `{"destination", "type", "source", "options": ["nosuid", "mode=755"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OciMount", into = "OciMount")]
pub struct Mount {
    /// Absolute path inside the container; created when missing. Symlinks on the way are
    /// resolved inside the container's root, never on the host; below box's own `/proc`,
    /// `/sys` and `/dev` none is followed.
    pub destination: PathBuf,
    pub kind: MountType,
    /// For a bind, the absolute host path. For a fresh filesystem, what the mount table shows
    /// as its source (`tmpfs`, `shm`); `None` shows `none`.
    pub source: Option<PathBuf>,
    pub options: MountOptions,
}

/// What is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MountType {
    /// A host file or directory (`bind`/`rbind`).
    Bind,
    /// A procfs of the container's pid namespace.
    Proc,
    /// A sysfs of its network namespace (read-only host's one where that cannot be mounted).
    Sysfs,
    Tmpfs,
    /// A pty filesystem; with `newinstance`, the container's own.
    Devpts,
    /// POSIX message queues of its IPC namespace.
    Mqueue,
    /// The cgroup2 hierarchy as the container's cgroup namespace shows it: its own cgroup
    /// as the root (OCI's `cgroup` type, which box always mounts this way, read-only).
    Cgroup2,
    /// Any other filesystem (`ramfs`, `overlay` with its lower/upper/work directories as host
    /// paths in its options, a block device's): its source and options as given.
    Other(FsType),
}

const TYPES: &[(&str, MountType)] = &[
    ("bind", MountType::Bind),
    ("proc", MountType::Proc),
    ("sysfs", MountType::Sysfs),
    ("tmpfs", MountType::Tmpfs),
    ("devpts", MountType::Devpts),
    ("mqueue", MountType::Mqueue),
    ("cgroup2", MountType::Cgroup2),
];

impl MountType {
    /// The type's name, as the kernel and OCI call it.
    pub fn name(&self) -> &str {
        if let MountType::Other(t) = self {
            return t.as_str();
        }
        TYPES
            .iter()
            .find(|(_, t)| t == self)
            .map_or("bind", |(n, _)| n)
    }

    fn from_name(name: &str) -> Result<MountType, MountError> {
        if let Some((_, t)) = TYPES.iter().find(|(n, _)| *n == name) {
            return Ok(*t);
        }
        // cgroup v1 needs its controllers named: a view only the cgroup layer could build.
        if name == "cgroup" {
            return Err(MountError::UnknownType(name.into()));
        }
        FsType::new(name).map(MountType::Other)
    }
}

impl Mount {
    /// A mount from OCI's fields: `fstype` is ignored when `options` hold `bind` or `rbind`
    /// (as OCI runtimes do), `source` is the host path of a bind.
    pub fn parse<S: AsRef<str>>(
        destination: impl Into<PathBuf>,
        fstype: Option<&str>,
        source: Option<PathBuf>,
        options: &[S],
    ) -> Result<Mount, MountError> {
        let (options, bind) = options::parse(options)?;
        let kind = match (bind, fstype) {
            (true, _) => MountType::Bind,
            (false, Some(name)) => MountType::from_name(name)?,
            (false, None) => return Err(MountError::NoType),
        };
        Ok(Mount {
            destination: destination.into(),
            kind,
            source,
            options,
        })
    }

    /// The options as words, the way [`Mount::parse`] reads them.
    pub fn option_words(&self) -> Vec<String> {
        self.options.words(self.kind == MountType::Bind)
    }

    /// A bind of the host path `source` with every mount below it (`rbind`); `readonly` makes
    /// all of them read-only (`rro`). box.toml's `type = "bind"`.
    pub fn bind(
        source: impl Into<PathBuf>,
        destination: impl Into<PathBuf>,
        readonly: bool,
    ) -> Mount {
        Mount {
            destination: destination.into(),
            kind: MountType::Bind,
            source: Some(source.into()),
            options: MountOptions {
                readonly: if readonly {
                    ReadOnly::Recursive
                } else {
                    ReadOnly::No
                },
                recursive: true,
                ..MountOptions::default()
            },
        }
    }

    /// A fresh tmpfs, `nosuid,nodev`, of at most `size` bytes (kernel default: half of RAM)
    /// whose root has the permission bits `mode` (kernel default: 1777). box.toml's
    /// `type = "tmpfs"`.
    pub fn tmpfs(destination: impl Into<PathBuf>, size: Option<u64>, mode: Option<u32>) -> Mount {
        let mut data = Vec::new();
        data.extend(size.map(|s| format!("size={s}")));
        data.extend(mode.map(|m| format!("mode={m:o}")));
        fresh(
            destination,
            MountType::Tmpfs,
            Some("tmpfs"),
            MountFlags::NOSUID | MountFlags::NODEV,
            ReadOnly::No,
            &data,
        )
    }
}

fn fresh<S: AsRef<str>>(
    destination: impl Into<PathBuf>,
    kind: MountType,
    source: Option<&str>,
    flags: MountFlags,
    readonly: ReadOnly,
    data: &[S],
) -> Mount {
    Mount {
        destination: destination.into(),
        kind,
        source: source.map(PathBuf::from),
        options: MountOptions {
            flags,
            readonly,
            data: data.iter().map(|d| d.as_ref().to_string()).collect(),
            ..MountOptions::default()
        },
    }
}

/// The mounts every container gets, those of Docker's default spec with the same options:
/// `/proc`, `/sys` read-only, a `/dev` tmpfs (where box makes the standard device nodes and
/// links), its own devpts, a 64 MiB `/dev/shm`, `/dev/mqueue`.
///
/// Not here: Docker's cgroupfs at `/sys/fs/cgroup`. On a cgroup v1 or hybrid host it is a
/// tmpfs with one mount per hierarchy, which only the cgroup layer knows: it is
/// [`RootfsConfig::cgroupfs`](crate::RootfsConfig), mounted right after `/sys`.
pub fn default_mounts() -> Vec<Mount> {
    let nosuid_nodev_noexec = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    let none: &[&str] = &[];
    vec![
        fresh(
            "/proc",
            MountType::Proc,
            None,
            nosuid_nodev_noexec,
            ReadOnly::No,
            none,
        ),
        fresh(
            "/sys",
            MountType::Sysfs,
            None,
            nosuid_nodev_noexec,
            ReadOnly::Yes,
            none,
        ),
        fresh(
            "/dev",
            MountType::Tmpfs,
            None,
            MountFlags::NOSUID | MountFlags::STRICTATIME,
            ReadOnly::No,
            &["mode=755", "size=65536k"],
        ),
        fresh(
            "/dev/pts",
            MountType::Devpts,
            Some("devpts"),
            MountFlags::NOSUID | MountFlags::NOEXEC,
            ReadOnly::No,
            &["newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        fresh(
            "/dev/shm",
            MountType::Tmpfs,
            Some("tmpfs"),
            nosuid_nodev_noexec,
            ReadOnly::No,
            &["mode=1777", "size=65536k"],
        ),
        fresh(
            "/dev/mqueue",
            MountType::Mqueue,
            Some("mqueue"),
            nosuid_nodev_noexec,
            ReadOnly::No,
            none,
        ),
    ]
}

/// A mount as OCI's `config.json` writes it.
#[derive(Serialize, Deserialize)]
struct OciMount {
    destination: PathBuf,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<PathBuf>,
    #[serde(default)]
    options: Vec<String>,
}

impl From<Mount> for OciMount {
    fn from(m: Mount) -> OciMount {
        OciMount {
            kind: m.kind.name().into(),
            options: m.option_words(),
            destination: m.destination,
            source: m.source,
        }
    }
}

impl TryFrom<OciMount> for Mount {
    type Error = MountError;

    fn try_from(m: OciMount) -> Result<Mount, MountError> {
        Mount::parse(m.destination, Some(&m.kind), m.source, &m.options)
    }
}

#[cfg(test)]
mod tests;
