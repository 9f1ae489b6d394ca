//! Plain configuration data for the security layer (no file-format knowledge).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Everything the security layer applies to one container process.
///
/// `Default` is Docker's default: its 14 capabilities, its seccomp profile, no
/// `no_new_privileges`, no rlimit changes, no LSM label, user `0:0`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// Capabilities relative to Docker's default set.
    pub capabilities: CapabilityConfig,
    /// Set `PR_SET_NO_NEW_PRIVS`: setuid binaries and file capabilities stop granting privileges.
    pub no_new_privileges: bool,
    /// Which seccomp filter to install.
    pub seccomp: SeccompConfig,
    /// Resource limits to set before the uid change.
    pub rlimits: Vec<Rlimit>,
    /// AppArmor profile to run the process under (applied at `execve`).
    /// `"unconfined"` means no profile and is accepted on any host.
    pub apparmor_profile: Option<String>,
    /// SELinux process label (`user:role:type[:level]`, applied at `execve`).
    pub selinux_label: Option<String>,
    /// The identity the process runs as.
    pub user: UserSpec,
}

/// Capability changes relative to Docker's 14 default capabilities.
///
/// Names are accepted with or without the `CAP_` prefix, in any case; `"ALL"` means every
/// capability. `drop = ["ALL"]` starts from the empty set; otherwise the result is
/// default − drop + add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CapabilityConfig {
    /// Capabilities to grant on top of the defaults.
    pub add: Vec<String>,
    /// Capabilities to remove from the defaults.
    pub drop: Vec<String>,
}

/// Which seccomp filter to install.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompConfig {
    /// box's built-in equivalent of Docker's default profile.
    #[default]
    Default,
    /// No filter at all.
    Unconfined,
    /// A Docker/OCI-format JSON profile at this path.
    Profile(PathBuf),
}

/// One resource limit, named as `docker run --ulimit` names it (`nofile`, `nproc`, ...).
///
/// `RLIMIT_NOFILE`-style names are accepted too. `u64::MAX` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// Resource name: `as`, `core`, `cpu`, `data`, `fsize`, `locks`, `memlock`, `msgqueue`,
    /// `nice`, `nofile`, `nproc`, `rss`, `rtprio`, `rttime`, `sigpending`, `stack`.
    pub resource: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// The uid, gid and supplementary groups of the container process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSpec {
    /// User id (real, effective and saved).
    pub uid: u32,
    /// Group id (real, effective and saved).
    pub gid: u32,
    /// Supplementary groups; empty clears the inherited ones.
    pub additional_gids: Vec<u32>,
}
