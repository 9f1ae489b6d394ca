//! Plain-data configuration of the container's root filesystem.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Docker's default masked paths: hidden behind an empty read-only tmpfs
/// (directories) or `/dev/null` (files), because they leak host information
/// or offer kernel knobs a container has no business with.
pub const DOCKER_MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's default read-only paths: bind-mounted onto themselves read-only.
pub const DOCKER_READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Everything [`setup`](crate::setup) needs to build the container's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootfsConfig {
    /// What becomes `/`.
    pub root: Root,
    /// Remount `/` read-only at the very end (submounts such as `/proc`,
    /// `/dev`, `/tmp` and user mounts keep their own flags).
    pub readonly: bool,
    /// User mounts, applied in order after `/proc`, `/sys` and `/dev`.
    pub mounts: Vec<Mount>,
    /// Paths hidden from the container (see [`DOCKER_MASKED_PATHS`]).
    pub masked_paths: Vec<PathBuf>,
    /// Paths made read-only (see [`DOCKER_READONLY_PATHS`]).
    pub readonly_paths: Vec<PathBuf>,
    /// Propagation applied recursively to every mount before anything else.
    pub propagation: Propagation,
    /// Create an empty `/dev/console` file so that a pty can be bound over
    /// it later with [`bind_console`](crate::bind_console).
    pub console: bool,
    /// Host devices added to `/dev` (Docker's `--device`), after the standard ones.
    pub devices: Vec<crate::Device>,
}

impl Default for RootfsConfig {
    /// A read-only view of the host ([`Root::Host`]) with Docker's masked and
    /// read-only paths and private propagation.
    fn default() -> Self {
        RootfsConfig {
            root: Root::Host,
            readonly: false,
            mounts: Vec::new(),
            masked_paths: DOCKER_MASKED_PATHS.iter().map(PathBuf::from).collect(),
            readonly_paths: DOCKER_READONLY_PATHS.iter().map(PathBuf::from).collect(),
            propagation: Propagation::Private,
            console: false,
            devices: Vec::new(),
        }
    }
}

/// The tree that becomes the container's `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Root {
    /// A fresh tmpfs holding read-only binds of the host's `/usr`, `/bin`,
    /// `/sbin`, `/lib*` and `/etc` (symlinks such as `/bin -> usr/bin` are
    /// recreated), plus private `/tmp`, `/run` and `/root`.
    Host,
    /// An absolute host path of a root filesystem tree, bound recursively.
    Dir(PathBuf),
}

/// How mount events propagate between the container and the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// No propagation in either direction (`MS_PRIVATE`).
    #[default]
    Private,
    /// Host mounts appear in the container, never the reverse (`MS_SLAVE`).
    Slave,
}

/// One user mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Absolute path inside the container; created if missing. Symlinks in it
    /// are resolved inside the container root, never on the host.
    pub target: PathBuf,
    /// What to mount there.
    #[serde(flatten)]
    pub kind: MountKind,
}

/// The kind of a user mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MountKind {
    /// Recursive bind of an absolute host path (file or directory).
    Bind {
        /// Absolute host path.
        source: PathBuf,
        /// Make the bind (and everything below it) read-only.
        #[serde(default)]
        readonly: bool,
    },
    /// A fresh tmpfs (`nosuid,nodev`).
    Tmpfs {
        /// Size limit in bytes (kernel default: half of RAM).
        #[serde(default)]
        size: Option<u64>,
        /// Permission bits of its root directory (kernel default: 1777).
        #[serde(default)]
        mode: Option<u32>,
    },
}

/// The `data` string for a tmpfs mount, e.g. `size=1048576,mode=755`.
pub(crate) fn tmpfs_options(size: Option<u64>, mode: Option<u32>) -> String {
    let mut opts = Vec::with_capacity(2);
    if let Some(size) = size {
        opts.push(format!("size={size}"));
    }
    if let Some(mode) = mode {
        opts.push(format!("mode={mode:o}"));
    }
    opts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_host_with_docker_lists() {
        let cfg = RootfsConfig::default();
        assert_eq!(cfg.root, Root::Host);
        assert_eq!(cfg.propagation, Propagation::Private);
        assert!(!cfg.readonly && !cfg.console && cfg.mounts.is_empty());
        assert_eq!(cfg.masked_paths.len(), 11);
        assert!(cfg.masked_paths.contains(&PathBuf::from("/proc/kcore")));
        assert_eq!(cfg.readonly_paths.len(), 5);
        assert!(cfg.readonly_paths.contains(&PathBuf::from("/proc/sys")));
    }

    #[test]
    fn tmpfs_option_strings() {
        assert_eq!(tmpfs_options(None, None), "");
        assert_eq!(tmpfs_options(Some(65536), None), "size=65536");
        assert_eq!(tmpfs_options(None, Some(0o1777)), "mode=1777");
        assert_eq!(
            tmpfs_options(Some(1 << 20), Some(0o755)),
            "size=1048576,mode=755"
        );
    }

    #[test]
    fn serde_shape() {
        let m = Mount {
            target: "/data".into(),
            kind: MountKind::Bind {
                source: "/srv".into(),
                readonly: true,
            },
        };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"target":"/data","type":"bind","source":"/srv","readonly":true}"#
        );
        let back: Mount =
            serde_json::from_str(r#"{"target":"/t","type":"tmpfs","size":10}"#).unwrap();
        assert_eq!(
            back.kind,
            MountKind::Tmpfs {
                size: Some(10),
                mode: None
            }
        );
        let cfg: RootfsConfig = serde_json::from_str(r#"{"root":{"dir":"/r"}}"#).unwrap();
        assert_eq!(cfg.root, Root::Dir("/r".into()));
        assert_eq!(cfg.masked_paths, RootfsConfig::default().masked_paths);
    }
}
