//! box-security: the last steps before a container's `execve` — rlimits, user and groups,
//! capabilities, no_new_privs, LSM labels and a seccomp filter — so that the container's root
//! is as powerless as Docker's defaults make it, or as tight as configured.
//!
//! The work is split so the child does no parsing or compiling:
//!
//! ```text
//! front end, validating:     let warnings = box_security::check(&cfg)?;     // the same errors, no BPF
//! parent, before clone:      let prepared = box_security::prepare(&cfg)?;   // all user errors here
//!                            (a front end that does both probes the host once: Host::probe,
//!                            then check_on and prepare_on with the same Host)
//! child, after pivot_root:   prepared.apply_identity()?;                    // rlimits, groups, gid, uid
//!                            (re-arm PR_SET_PDEATHSIG: the uid change cleared it)
//!                            close_range(3, ~0, CLOSE_RANGE_CLOEXEC)
//!                            prepared.apply_restrictions()?;                // LSM, caps, NNP, seccomp last
//!                            execve
//! ```
//!
//! ```no_run
//! use box_security::{host_bounding_set, prepare, CapAddDrop, Capabilities, SecurityConfig, UserSpec};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut cfg = SecurityConfig::default(); // Docker's defaults, for root
//! cfg.user = UserSpec { uid: 1000, gid: 1000, additional_gids: vec![] };
//! // The five capability sets, from Docker's --cap-drop ALL --cap-add NET_BIND_SERVICE:
//! let changes = CapAddDrop { add: vec!["NET_BIND_SERVICE".into()], drop: vec!["ALL".into()] };
//! cfg.capabilities = Capabilities::docker(&changes, false, host_bounding_set()?)?.capabilities;
//! let prepared = prepare(&cfg)?;
//! // ... fork; in the child:
//! prepared.apply_identity()?;
//! prepared.apply_restrictions()?;
//! // execve the container's program here
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod apply;
pub mod capabilities;
mod config;
mod error;
mod host;
mod lsm;
mod prepare;
mod rlimit;
pub mod seccomp;
mod sys;

pub use capabilities::{
    default_capabilities, parse_capability, resolve_capabilities, CapAddDrop, CapSet, CapSetKind,
    Capabilities, Capability, Resolved, DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS_MASK,
};
pub use config::{SeccompConfig, SecurityConfig, UserSpec};
pub use error::{Error, Result, Step};
pub use host::{host_bounding_set, Host};
pub use lsm::{detect as detect_lsms, Lsm, LsmSupport};
pub use prepare::{check, check_on, prepare, prepare_on, Prepared};
pub use rlimit::{Resource, Rlimit};
