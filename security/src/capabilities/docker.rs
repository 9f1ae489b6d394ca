//! Docker's capabilities: its 14 defaults, `--cap-add`/`--cap-drop` on top of them, and the
//! five sets that makes for root and for other users.

use serde::{Deserialize, Serialize};

use super::{parse_capability, CapSet, Capabilities, Capability};
use crate::error::{Error, Result};

/// Docker's 14 default capabilities as a bit mask (`CapBnd`/`CapEff` in `docker run`).
pub const DOCKER_DEFAULT_CAPS_MASK: u64 = 0xa804_25fb;

/// Docker's default capabilities, in Docker's order.
pub const DOCKER_DEFAULT_CAPS: [Capability; 14] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Docker's 14 default capabilities.
pub fn default_capabilities() -> CapSet {
    DOCKER_DEFAULT_CAPS.into_iter().collect()
}

/// Capability changes relative to Docker's 14 defaults, as `docker run --cap-add/--cap-drop`
/// (and box.toml's `[security] capabilities`) give them.
///
/// Names are accepted with or without the `CAP_` prefix, in any case; `"ALL"` means every
/// capability. `drop = ["ALL"]` starts from the empty set; otherwise the result is
/// default − drop + add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CapAddDrop {
    /// Capabilities to grant on top of the defaults.
    pub add: Vec<String>,
    /// Capabilities to remove from the defaults.
    pub drop: Vec<String>,
}

/// The outcome of [`Capabilities::docker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The five sets.
    pub capabilities: Capabilities,
    /// What was left out, and why (capabilities of `add = ["ALL"]` or of the defaults that
    /// the host's bounding set lacks).
    pub warnings: Vec<String>,
}

impl Capabilities {
    /// The five sets Docker gives a process for `changes`, on a host whose bounding set is
    /// `host` (see [`crate::host_bounding_set`]):
    ///
    /// - bounding = effective = permitted = the resolved set ([`resolve_capabilities`]),
    ///   less what the host lacks (with a warning); a capability *named* in `add` that the
    ///   host lacks is an error instead, since box cannot give what it does not have;
    /// - root (`is_root`): inheritable and ambient empty, as Docker;
    /// - any other user: the capabilities that were explicitly added (all of them for
    ///   `"ALL"`) in inheritable and ambient, so that they survive `execve` — Docker gives a
    ///   non-root user nothing across `execve`.
    ///
    /// Unknown names are an error naming the list and the entry, `drop` first.
    pub fn docker(changes: &CapAddDrop, is_root: bool, host: CapSet) -> Result<Resolved> {
        let requested = resolve_capabilities(changes)?;
        let adds = parse_list("add", &changes.add)?;
        let missing = requested.difference(host);
        if let Some(cap) = missing.intersect(adds.named).iter().next() {
            let index = changes
                .add
                .iter()
                .position(|name| parse_capability(name) == Some(cap))
                .unwrap_or(0);
            return Err(Error::CapabilityUnavailable {
                index,
                name: cap.to_string(),
            });
        }
        let mut warnings = Vec::new();
        if !missing.is_empty() {
            warnings.push(format!(
                "capabilities not in this host's bounding set are left out: {}",
                missing.names()
            ));
        }
        let set = requested.intersect(host);
        let added = if adds.all { CapSet::all() } else { adds.named };
        let kept = if is_root {
            CapSet::EMPTY
        } else {
            set.intersect(added)
        };
        Ok(Resolved {
            capabilities: Capabilities {
                bounding: set,
                effective: set,
                inheritable: kept,
                permitted: set,
                ambient: kept,
            },
            warnings,
        })
    }
}

fn is_all(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("ALL") || name.trim().eq_ignore_ascii_case("CAP_ALL")
}

/// Resolves `add`/`drop` the way Docker does: `drop = ["ALL"]` starts from nothing, otherwise
/// from [`default_capabilities`] minus `drop`; then `add` (`"ALL"` = every capability).
///
/// Unknown names are an error naming the list and the entry.
pub fn resolve_capabilities(changes: &CapAddDrop) -> Result<CapSet> {
    let drops = parse_list("drop", &changes.drop)?;
    let adds = parse_list("add", &changes.add)?;
    let mut set = if drops.all {
        CapSet::EMPTY
    } else {
        default_capabilities().difference(drops.named)
    };
    if adds.all {
        set = set.union(CapSet::all());
    }
    Ok(set.union(adds.named))
}

/// The parsed form of one `add` or `drop` list.
struct ParsedList {
    all: bool,
    named: CapSet,
}

fn parse_list(list: &'static str, names: &[String]) -> Result<ParsedList> {
    let mut parsed = ParsedList {
        all: false,
        named: CapSet::EMPTY,
    };
    for (index, name) in names.iter().enumerate() {
        if is_all(name) {
            parsed.all = true;
            continue;
        }
        let cap = parse_capability(name).ok_or_else(|| Error::UnknownCapability {
            list,
            index,
            name: name.clone(),
        })?;
        parsed.named.insert(cap);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(add: &[&str], drop: &[&str]) -> CapAddDrop {
        CapAddDrop {
            add: add.iter().map(|s| s.to_string()).collect(),
            drop: drop.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn bits(caps: &[Capability]) -> u64 {
        caps.iter().map(|c| c.bitmask()).fold(0, |a, b| a | b)
    }

    #[test]
    fn default_mask_is_dockers() {
        assert_eq!(default_capabilities().bits(), DOCKER_DEFAULT_CAPS_MASK);
        assert_eq!(
            resolve_capabilities(&changes(&[], &[])).unwrap().bits(),
            DOCKER_DEFAULT_CAPS_MASK
        );
    }

    #[test]
    fn drop_all_then_add() {
        let set = resolve_capabilities(&changes(&["net_bind_service"], &["ALL"])).unwrap();
        assert_eq!(
            set,
            CapSet::from_bits(Capability::CAP_NET_BIND_SERVICE.bitmask())
        );
        assert!(resolve_capabilities(&changes(&[], &["all"]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn default_minus_drop_plus_add() {
        let set =
            resolve_capabilities(&changes(&["SYS_ADMIN"], &["NET_RAW", "CAP_MKNOD"])).unwrap();
        let expected = DOCKER_DEFAULT_CAPS_MASK
            & !Capability::CAP_NET_RAW.bitmask()
            & !Capability::CAP_MKNOD.bitmask()
            | Capability::CAP_SYS_ADMIN.bitmask();
        assert_eq!(set.bits(), expected);
        // Dropping something not in the defaults is harmless; add wins over drop.
        let set = resolve_capabilities(&changes(&["chown"], &["chown", "sys_time"])).unwrap();
        assert_eq!(set.bits(), DOCKER_DEFAULT_CAPS_MASK);
    }

    #[test]
    fn add_all_is_every_known_capability() {
        let set = resolve_capabilities(&changes(&["ALL"], &[])).unwrap();
        assert_eq!(set, CapSet::all());
        assert!(set.contains(Capability::CAP_CHECKPOINT_RESTORE));
    }

    #[test]
    fn unknown_names_name_the_entry() {
        let err = resolve_capabilities(&changes(&["NET_ADMIN", "CAP_FLY"], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"capabilities.add[1]: unknown capability "CAP_FLY""#
        );
        let err = resolve_capabilities(&changes(&["CAP_FLY"], &["bogus"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"capabilities.drop[0]: unknown capability "bogus""#
        );
    }

    #[test]
    fn set_iterates_in_number_order() {
        let names: Vec<String> = default_capabilities()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(names.first().map(String::as_str), Some("CAP_CHOWN"));
        assert_eq!(names.last().map(String::as_str), Some("CAP_SETFCAP"));
        assert_eq!(names.len(), 14);
    }

    #[test]
    fn root_gets_the_resolved_set_in_bounding_effective_and_permitted() {
        let r = Capabilities::docker(&changes(&[], &[]), true, CapSet::all()).unwrap();
        assert_eq!(r.capabilities, Capabilities::default());
        assert!(r.warnings.is_empty());
        let r =
            Capabilities::docker(&changes(&["NET_ADMIN"], &["ALL"]), true, CapSet::all()).unwrap();
        let net_admin = CapSet::from_bits(Capability::CAP_NET_ADMIN.bitmask());
        assert_eq!(
            r.capabilities,
            Capabilities {
                bounding: net_admin,
                effective: net_admin,
                inheritable: CapSet::EMPTY,
                permitted: net_admin,
                ambient: CapSet::EMPTY,
            }
        );
    }

    #[test]
    fn another_user_keeps_what_was_added_in_inheritable_and_ambient() {
        let r = Capabilities::docker(&changes(&["net_bind_service"], &[]), false, CapSet::all())
            .unwrap();
        let c = r.capabilities;
        assert_eq!(c.bounding, default_capabilities());
        assert_eq!((c.effective, c.permitted), (c.bounding, c.bounding));
        let nbs = CapSet::from_bits(Capability::CAP_NET_BIND_SERVICE.bitmask());
        assert_eq!((c.inheritable, c.ambient), (nbs, nbs));
        // Nothing added: nothing across execve, as Docker.
        let r = Capabilities::docker(&changes(&[], &[]), false, CapSet::all()).unwrap();
        assert!(r.capabilities.ambient.is_empty() && r.capabilities.inheritable.is_empty());
        // "ALL": every capability the host has.
        let host = CapSet::all().difference(CapSet::from_bits(bits(&[Capability::CAP_BPF])));
        let r = Capabilities::docker(&changes(&["ALL"], &[]), false, host).unwrap();
        assert_eq!(r.capabilities.ambient, host);
        assert!(r.capabilities.check(host).is_ok());
    }

    #[test]
    fn what_the_host_lacks_is_left_out_with_a_warning_or_refused_when_named() {
        let lacking = bits(&[Capability::CAP_SYS_RESOURCE, Capability::CAP_MKNOD]);
        let host = CapSet::all().difference(CapSet::from_bits(lacking));
        let r = Capabilities::docker(&changes(&["ALL"], &[]), true, host).unwrap();
        assert_eq!(r.capabilities.bounding, host);
        assert_eq!(
            r.warnings,
            ["capabilities not in this host's bounding set are left out: CAP_SYS_RESOURCE, CAP_MKNOD"]
        );
        let r = Capabilities::docker(&changes(&[], &[]), true, host).unwrap();
        assert_eq!(
            r.capabilities.bounding.bits(),
            DOCKER_DEFAULT_CAPS_MASK & !Capability::CAP_MKNOD.bitmask()
        );
        assert_eq!(r.warnings.len(), 1);
        let err = Capabilities::docker(&changes(&["CHOWN", "sys_resource"], &[]), true, host)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "capabilities.add[1]: CAP_SYS_RESOURCE is not in this host's bounding set, so no process box starts can have it"
        );
    }
}
