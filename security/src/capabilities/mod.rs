//! Capabilities: names and sets ([`CapSet`]), the five sets a process gets
//! ([`Capabilities`]), and Docker's way of choosing them ([`Capabilities::docker`]).

mod docker;
mod set;

use std::fmt;

pub use caps::Capability;
use serde::{Deserialize, Serialize};

pub use docker::{
    default_capabilities, resolve_capabilities, CapAddDrop, Resolved, DOCKER_DEFAULT_CAPS,
    DOCKER_DEFAULT_CAPS_MASK,
};
pub(crate) use set::name_of_index;
pub use set::{parse_capability, CapSet};

use crate::error::{Error, Result};

/// The five capability sets of the container process, as an OCI `config.json` gives them
/// (`process.capabilities`).
///
/// What box does with them, before `execve`: drops everything not in `bounding` from the
/// bounding set, sets `inheritable`, `effective` and `permitted`, then raises `ambient`.
/// `execve` then recomputes permitted and effective: for root, from the bounding and
/// inheritable sets; for another user, from the ambient set.
///
/// `Default` is Docker's default for root: its 14 capabilities in bounding, effective and
/// permitted; inheritable and ambient empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// What the process, and everything it executes, can ever have.
    pub bounding: CapSet,
    /// What the process uses before `execve`; within `permitted`.
    pub effective: CapSet,
    /// What the process passes to programs it executes with file capabilities (and to the
    /// ambient set); within `bounding`.
    pub inheritable: CapSet,
    /// What the process may make effective before `execve`.
    pub permitted: CapSet,
    /// What a non-root process keeps across `execve`; within both `permitted` and
    /// `inheritable`.
    pub ambient: CapSet,
}

impl Default for Capabilities {
    fn default() -> Self {
        let docker = default_capabilities();
        Capabilities {
            bounding: docker,
            effective: docker,
            inheritable: CapSet::EMPTY,
            permitted: docker,
            ambient: CapSet::EMPTY,
        }
    }
}

/// One of the five sets, to name it in errors (`capabilities.ambient: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapSetKind {
    /// The bounding set.
    Bounding,
    /// The effective set.
    Effective,
    /// The inheritable set.
    Inheritable,
    /// The permitted set.
    Permitted,
    /// The ambient set.
    Ambient,
}

impl fmt::Display for CapSetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CapSetKind::Bounding => "bounding",
            CapSetKind::Effective => "effective",
            CapSetKind::Inheritable => "inheritable",
            CapSetKind::Permitted => "permitted",
            CapSetKind::Ambient => "ambient",
        })
    }
}

impl Capabilities {
    /// Each set with its name.
    pub fn sets(&self) -> [(CapSetKind, CapSet); 5] {
        [
            (CapSetKind::Bounding, self.bounding),
            (CapSetKind::Effective, self.effective),
            (CapSetKind::Inheritable, self.inheritable),
            (CapSetKind::Permitted, self.permitted),
            (CapSetKind::Ambient, self.ambient),
        ]
    }

    /// Refuses sets this host cannot give (a capability its bounding set `host` lacks) and
    /// sets the kernel would refuse together: effective within permitted, inheritable within
    /// bounding, ambient within permitted and inheritable.
    pub(crate) fn check(&self, host: CapSet) -> Result<()> {
        for (set, caps) in self.sets() {
            if let Some(cap) = caps.difference(host).iter().next() {
                return Err(Error::CapabilityNotInHost {
                    set,
                    name: cap.to_string(),
                });
            }
        }
        use CapSetKind::*;
        for (set, within) in [
            (Effective, Permitted),
            (Inheritable, Bounding),
            (Ambient, Permitted),
            (Ambient, Inheritable),
        ] {
            let outside = self.get(set).difference(self.get(within));
            if let Some(cap) = outside.iter().next() {
                return Err(Error::CapabilityNotWithin {
                    set,
                    name: cap.to_string(),
                    within,
                });
            }
        }
        Ok(())
    }

    fn get(&self, kind: CapSetKind) -> CapSet {
        match kind {
            CapSetKind::Bounding => self.bounding,
            CapSetKind::Effective => self.effective,
            CapSetKind::Inheritable => self.inheritable,
            CapSetKind::Permitted => self.permitted,
            CapSetKind::Ambient => self.ambient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(caps: &[Capability]) -> CapSet {
        caps.iter().copied().collect()
    }

    #[test]
    fn the_default_is_dockers_for_root() {
        let c = Capabilities::default();
        for docker in [c.bounding, c.effective, c.permitted] {
            assert_eq!(docker.bits(), DOCKER_DEFAULT_CAPS_MASK);
        }
        assert!(c.inheritable.is_empty() && c.ambient.is_empty());
        assert!(c.check(CapSet::all()).is_ok());
    }

    #[test]
    fn sets_the_host_or_the_kernel_would_refuse_are_errors() {
        let host = CapSet::all().difference(set(&[Capability::CAP_SYS_RESOURCE]));
        let c = Capabilities {
            inheritable: set(&[Capability::CAP_SYS_RESOURCE]),
            ..Capabilities::default()
        };
        assert_eq!(
            c.check(host).unwrap_err().to_string(),
            "capabilities.inheritable: CAP_SYS_RESOURCE is not in this host's bounding set, so no process box starts can have it"
        );
        let net_admin = set(&[Capability::CAP_NET_ADMIN]);
        for (change, message) in [
            (
                (|c: &mut Capabilities, s| c.effective = c.effective.union(s))
                    as fn(&mut Capabilities, CapSet),
                "capabilities.effective: CAP_NET_ADMIN is not in the permitted set, and the kernel keeps effective within permitted",
            ),
            (
                |c, s| c.inheritable = s,
                "capabilities.inheritable: CAP_NET_ADMIN is not in the bounding set, and the kernel keeps inheritable within bounding",
            ),
            (
                |c, s| c.ambient = s,
                "capabilities.ambient: CAP_NET_ADMIN is not in the permitted set, and the kernel keeps ambient within permitted",
            ),
            (
                |c, s| {
                    c.permitted = c.permitted.union(s);
                    c.ambient = s;
                },
                "capabilities.ambient: CAP_NET_ADMIN is not in the inheritable set, and the kernel keeps ambient within inheritable",
            ),
        ] {
            let mut c = Capabilities::default();
            change(&mut c, net_admin);
            assert_eq!(c.check(host).unwrap_err().to_string(), message);
        }
        // All five explicitly, as an OCI config may give them.
        let c = Capabilities {
            bounding: net_admin,
            effective: CapSet::EMPTY,
            inheritable: net_admin,
            permitted: net_admin,
            ambient: net_admin,
        };
        assert!(c.check(host).is_ok());
    }

    #[test]
    fn the_sets_are_named_lists_in_json() {
        let c = Capabilities {
            bounding: set(&[Capability::CAP_KILL, Capability::CAP_CHOWN]),
            effective: set(&[Capability::CAP_KILL]),
            inheritable: CapSet::EMPTY,
            permitted: set(&[Capability::CAP_KILL]),
            ambient: CapSet::EMPTY,
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"bounding":["CAP_CHOWN","CAP_KILL"],"effective":["CAP_KILL"],"inheritable":[],"permitted":["CAP_KILL"],"ambient":[]}"#
        );
        assert_eq!(serde_json::from_str::<Capabilities>(&json).unwrap(), c);
    }
}
