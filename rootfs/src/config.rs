//! Plain-data configuration of the container's root filesystem.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{default_mounts, Mount};

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
    /// Every mount, made in order: [`default_mounts`] (Docker's `/proc`, `/sys`, `/dev`...),
    /// then the user's. A mount at `/proc`, `/sys` or `/dev` goes on a real directory of the
    /// root and is held by fd; the first tmpfs at `/dev` gets the standard device nodes,
    /// links, the console and `devices`.
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
    /// Host devices added to `/dev` (Docker's `--device`), after the standard ones; they need
    /// a tmpfs at `/dev` in `mounts`.
    pub devices: Vec<crate::Device>,
    /// The container's own cgroups, read-only at `/sys/fs/cgroup` (Docker's), mounted right
    /// after `/sys`; `None`: sysfs's empty directory. The caller knows the host's hierarchies.
    pub cgroupfs: Option<crate::CgroupFs>,
    /// Enter the root with `MS_MOVE` + `chroot` instead of `pivot_root` (runc's
    /// `--no-pivot`, for a root on the initramfs, which cannot be pivoted). Weaker: the
    /// host's root filesystem stays in the mount namespace, covered by the container's root
    /// (see docs/oci.md, *--no-pivot*).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_pivot: bool,
}

impl Default for RootfsConfig {
    /// A read-only view of the host ([`Root::Host`]) with Docker's default mounts, masked
    /// and read-only paths, and private propagation.
    fn default() -> Self {
        RootfsConfig {
            root: Root::Host,
            readonly: false,
            mounts: default_mounts(),
            masked_paths: DOCKER_MASKED_PATHS.iter().map(PathBuf::from).collect(),
            readonly_paths: DOCKER_READONLY_PATHS.iter().map(PathBuf::from).collect(),
            propagation: Propagation::Private,
            console: false,
            devices: Vec::new(),
            cgroupfs: None,
            no_pivot: false,
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
    /// An overlayfs of read-only layer directories (an image's) under the container's own
    /// upper directory; see [`Overlay`](crate::Overlay).
    Overlay(crate::Overlay),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_host_with_docker_lists() {
        let cfg = RootfsConfig::default();
        assert_eq!(cfg.root, Root::Host);
        assert_eq!(cfg.propagation, Propagation::Private);
        assert!(!cfg.readonly && !cfg.console);
        assert_eq!(cfg.mounts, default_mounts());
        assert_eq!(cfg.masked_paths.len(), 11);
        assert!(cfg.masked_paths.contains(&PathBuf::from("/proc/kcore")));
        assert_eq!(cfg.readonly_paths.len(), 5);
        assert!(cfg.readonly_paths.contains(&PathBuf::from("/proc/sys")));
    }

    #[test]
    fn serde_shape() {
        let cfg: RootfsConfig = serde_json::from_str(r#"{"root":{"dir":"/r"}}"#).unwrap();
        assert_eq!(cfg.root, Root::Dir("/r".into()));
        assert_eq!(cfg.masked_paths, RootfsConfig::default().masked_paths);
        assert_eq!(cfg.mounts, default_mounts(), "missing mounts: the defaults");
        let cfg: RootfsConfig = serde_json::from_str(r#"{"mounts":[]}"#).unwrap();
        assert!(cfg.mounts.is_empty(), "an empty list stays empty");
        let back: RootfsConfig =
            serde_json::from_str(&serde_json::to_string(&RootfsConfig::default()).unwrap())
                .unwrap();
        assert_eq!(back, RootfsConfig::default());
    }
}
