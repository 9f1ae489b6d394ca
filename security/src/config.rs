//! The security part of a container's spec: plain, typed data with no file-format knowledge.
//! Front ends (box.toml, an OCI config) build one; [`crate::prepare`] checks it against the
//! host.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::rlimit::Rlimit;
use crate::seccomp::Profile;

/// Everything the security layer applies to one container process.
///
/// `Default` is Docker's default for root: its 14 capabilities, its seccomp profile, no
/// `no_new_privileges`, no rlimit changes, no LSM label, user `0:0`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// The five capability sets, explicitly. [`Capabilities::docker`] computes them from
    /// Docker's `--cap-add`/`--cap-drop`.
    pub capabilities: Capabilities,
    /// Set `PR_SET_NO_NEW_PRIVS`: setuid binaries and file capabilities stop granting privileges.
    pub no_new_privileges: bool,
    /// Which seccomp filter to install.
    pub seccomp: SeccompConfig,
    /// Resource limits to set before the uid change, each resource at most once.
    pub rlimits: Vec<Rlimit>,
    /// AppArmor profile to run the process under (applied at `execve`).
    /// `"unconfined"` means no profile and is accepted on any host.
    pub apparmor_profile: Option<String>,
    /// SELinux process label (`user:role:type[:level]`, applied at `execve`).
    pub selinux_label: Option<String>,
    /// The identity the process runs as.
    pub user: UserSpec,
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
    /// A Docker/OCI-format JSON profile in this file, read by `prepare` (and again by each
    /// `prepare` of the same config, e.g. for `box exec`).
    Path(PathBuf),
    /// A profile given in place, as an OCI config's `linux.seccomp`; parse one with
    /// [`Profile::from_json`] or [`Profile::from_value`]. Serialized in that JSON form.
    Inline(Box<Profile>),
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

impl UserSpec {
    /// Refuses (uid_t)-1 anywhere in the identity: `setresuid(-1, -1, -1)` changes nothing,
    /// so the container would run as whoever started it. [`crate::prepare`] checks this too.
    pub fn check(&self) -> Result<()> {
        const UNCHANGED: u32 = u32::MAX;
        let ids = [("uid", self.uid), ("gid", self.gid)].into_iter().chain(
            self.additional_gids
                .iter()
                .map(|g| ("supplementary gid", *g)),
        );
        for (what, id) in ids {
            if id == UNCHANGED {
                return Err(Error::InvalidId { what, id });
            }
        }
        Ok(())
    }
}
