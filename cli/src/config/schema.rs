//! The shape of `box.toml`, exactly as users write it. Every table rejects unknown keys, so a
//! typo is an error (with a suggestion), never a silently ignored setting.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One container: the whole file in the single-container form, or one `[containers.NAME]`
/// table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    pub name: Option<String>,
    /// Required, unless the image has an Entrypoint or a Cmd (it is then the image's Cmd).
    pub command: Option<Vec<String>>,
    /// Replaces the image's Entrypoint (and drops its Cmd), as `docker run --entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// A directory, or `"host"` (the default when there is no `image`).
    pub rootfs: Option<String>,
    /// An image of the store: `busybox`, `localhost:5000/app:1`, an image ID.
    pub image: Option<String>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    #[serde(default)]
    pub tty: bool,
    /// What `box stop` sends first (default SIGTERM), and how long it waits for SIGKILL.
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u64>,
    /// box-init as PID 1, as `docker run --init`.
    #[serde(default)]
    pub init: bool,
    #[serde(default)]
    pub namespaces: Namespaces,
    pub user_namespace: Option<UserNamespace>,
    pub resources: Option<Resources>,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// `[network]`: none, host, container:NAME or bridge, and published ports.
    pub network: Option<Network>,
    /// Host devices, each `"HOST[:CONTAINER][:PERMISSIONS]"` as Docker's `--device`.
    #[serde(default)]
    pub devices: Vec<String>,
}

/// The several-container form: only `[containers.NAME]` tables (checked before parsing).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    pub containers: BTreeMap<String, Container>,
}

/// `rootfs` when the file gives neither it nor an image.
pub const DEFAULT_ROOTFS: &str = "host";

/// Each: "new" | "host" | "container:NAME" | a path to a namespace file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    pub cgroup: Option<String>,
    pub ipc: Option<String>,
    #[serde(alias = "mount")]
    pub mnt: Option<String>,
    pub net: Option<String>,
    pub pid: Option<String>,
    pub time: Option<String>,
    pub user: Option<String>,
    pub uts: Option<String>,
}

/// `[network]`: `mode` ("bridge" when left out), a bridge's `name` and `subnet`, `ports`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub mode: Option<String>,
    pub name: Option<String>,
    pub subnet: Option<String>,
    /// Docker's `-p`: `"[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]"`.
    #[serde(default)]
    pub ports: Vec<String>,
}

/// `[user_namespace]`: id maps as `[inside, outside, count]` triples.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserNamespace {
    pub uid_map: Vec<[u32; 3]>,
    pub gid_map: Vec<[u32; 3]>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub memory: Option<Size>,
    pub memory_swap: Option<Size>,
    pub memory_reservation: Option<Size>,
    pub cpus: Option<f64>,
    pub cpu_shares: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids: Option<i64>,
    pub io_weight: Option<u16>,
    /// `"MAJOR:MINOR RATE"` entries, rates with Docker's units for bps.
    #[serde(default)]
    pub io_read_bps: Vec<String>,
    #[serde(default)]
    pub io_write_bps: Vec<String>,
    #[serde(default)]
    pub io_read_iops: Vec<String>,
    #[serde(default)]
    pub io_write_iops: Vec<String>,
}

/// A size as Docker takes it: `"200m"`, `"1g"`, or a number of bytes (`-1`: unlimited).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    #[serde(default)]
    pub capabilities: Capabilities,
    pub seccomp: Option<String>,
    pub no_new_privileges: Option<bool>,
    #[serde(default)]
    pub readonly_rootfs: bool,
    #[serde(default)]
    pub rlimits: BTreeMap<String, Rlimit>,
    pub apparmor: Option<String>,
    pub selinux_label: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub drop: Vec<String>,
}

/// `nofile = 1024` (soft = hard) or `nproc = [512, 1024]` (soft, hard).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Rlimit {
    Both(u64),
    SoftHard([u64; 2]),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "lowercase")]
pub enum Mount {
    Bind {
        source: String,
        target: String,
        #[serde(default)]
        readonly: bool,
    },
    Tmpfs {
        target: String,
        size: Option<Size>,
        /// Octal, as a string (`"1777"`) or a TOML octal integer (`0o1777`).
        mode: Option<Mode>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Mode {
    Number(u32),
    Text(String),
}
