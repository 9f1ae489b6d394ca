use std::collections::BTreeMap;
use std::path::PathBuf;

use box_cgroup::Resources;
use box_net::NetConfig;
use box_ns::{IdMap, NsConfig};
use box_rootfs::RootfsConfig;
use box_security::SecurityConfig;

/// Everything about one container, layer by layer, as plain data. A front end (box.toml, an OCI
/// bundle) builds one; `run` starts it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    /// Unique per host: names the cgroup (`box/<name>`).
    pub name: String,
    pub process: Process,
    /// Set in the new uts namespace; ignored when the uts namespace is the host's.
    pub hostname: Option<String>,
    pub namespaces: NsConfig,
    /// uid/gid maps for a new user namespace.
    pub user_maps: Option<UserMaps>,
    pub rootfs: RootfsConfig,
    /// `None`: no cgroup of its own (the container stays in box's cgroup).
    pub cgroup: Option<CgroupSpec>,
    pub security: SecurityConfig,
    /// The host's facts `security` was checked against, when the front end probed them
    /// already, moments before: the start takes them instead of probing again. Never recorded.
    #[serde(skip)]
    pub security_host: Option<box_security::Host>,
    /// The container's network (`none`: its own net namespace with `lo` up).
    #[serde(default)]
    pub network: NetConfig,
    /// Kernel settings of the container's namespaces and process (OCI's `linux.sysctl`,
    /// `domainname`, `process.oomScoreAdj`); box.toml sets none.
    // Left out when unset (box.toml sets none): `box inspect` shows what box.toml can say.
    #[serde(default, skip_serializing_if = "Tunables::is_unset")]
    pub tunables: Tunables,
    /// Report how long each step of the start sequence took (`box up --timings`).
    pub timings: bool,
}

/// Kernel settings beyond the layers' configs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Tunables {
    /// Set in the new uts namespace, beside the hostname.
    pub domainname: Option<String>,
    /// Namespaced sysctls (`net.*`, IPC's `kernel.*`, `fs.mqueue.*`), written in the
    /// container's own namespaces.
    pub sysctls: BTreeMap<String, String>,
    /// The container process's `/proc/PID/oom_score_adj`, written by box after the clone.
    pub oom_score_adj: Option<i32>,
    /// The process's file mode creation mask, set just before `execve` (else inherited).
    pub umask: Option<u32>,
    /// fds 3 to 3+N-1 of box's caller, passed on to the command as they are (OCI's
    /// `--preserve-fds`): the caller vouches for them, every other fd is closed.
    pub preserve_fds: u32,
    /// OCI's `createContainer` hooks, run by the container's init once its root is built
    /// and before it is entered ([`crate::hooks`]).
    pub create_container: crate::hooks::CreateContainerHooks,
}

impl Tunables {
    pub fn is_unset(&self) -> bool {
        *self == Tunables::default()
    }
}

/// The process the container runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Process {
    /// `args[0]` is looked up in the container's `PATH` when it has no `/`, as Docker does.
    pub args: Vec<String>,
    /// `KEY=value` strings, the complete environment.
    pub env: Vec<String>,
    /// Working directory inside the container; created when missing, as Docker does.
    pub cwd: PathBuf,
    /// A pseudo-terminal on the container's own devpts as its controlling terminal.
    pub tty: bool,
}

/// The user namespace's id maps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UserMaps {
    pub uid: Vec<IdMap>,
    pub gid: Vec<IdMap>,
}

/// Where the container's cgroup goes and what it limits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CgroupSpec {
    /// Relative to each hierarchy's root, e.g. `box/web`.
    pub path: PathBuf,
    pub resources: Resources,
    /// The host's cgroup layout, when the front end detected it already (to check the limits
    /// against it, moments before): the start takes it instead of detecting it again, which
    /// reads mountinfo and opens and checks every hierarchy's root. Never recorded.
    #[serde(skip)]
    pub layout: Option<box_cgroup::Layout>,
}

/// The `PATH` Docker gives a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
