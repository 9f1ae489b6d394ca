//! Capability names, Docker's default set, and resolving `add`/`drop` into one set.

use std::fmt;

pub use caps::Capability;

use crate::config::CapabilityConfig;
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

/// A set of capabilities, stored as the kernel's 64-bit mask.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapSet(u64);

impl CapSet {
    /// The empty set.
    pub const EMPTY: CapSet = CapSet(0);

    /// The set with exactly these bits (bit n = capability number n).
    pub const fn from_bits(bits: u64) -> Self {
        CapSet(bits)
    }

    /// The kernel bit mask, as `/proc/PID/status` prints it.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Every capability this crate knows by name.
    pub fn all() -> Self {
        caps::all().into_iter().collect()
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Capability) -> bool {
        self.0 & cap.bitmask() != 0
    }

    /// Adds `cap`.
    pub fn insert(&mut self, cap: Capability) {
        self.0 |= cap.bitmask();
    }

    /// Removes `cap`.
    pub fn remove(&mut self, cap: Capability) {
        self.0 &= !cap.bitmask();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The capabilities in the set that this crate knows by name, by number.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        let mut known: Vec<Capability> = caps::all()
            .into_iter()
            .filter(|c| self.contains(*c))
            .collect();
        known.sort_by_key(|c| c.index());
        known.into_iter()
    }

    /// Intersection.
    pub fn intersect(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }

    /// Members of `self` not in `other`.
    pub fn difference(self, other: CapSet) -> CapSet {
        CapSet(self.0 & !other.0)
    }

    /// Union.
    pub fn union(self, other: CapSet) -> CapSet {
        CapSet(self.0 | other.0)
    }
}

impl FromIterator<Capability> for CapSet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut set = CapSet::EMPTY;
        for cap in iter {
            set.insert(cap);
        }
        set
    }
}

impl fmt::Debug for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapSet({:#018x} ", self.0)?;
        f.debug_list().entries(self.iter()).finish()?;
        write!(f, ")")
    }
}

/// Parses one capability name: `CAP_NET_ADMIN`, `net_admin`, `Net_Admin` all work.
///
/// `ALL` is not a capability and returns `None`; callers handle it.
pub fn parse_capability(name: &str) -> Option<Capability> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return None;
    }
    caps::to_canonical(trimmed).parse().ok()
}

/// Canonical name of a capability number, also for numbers newer than this crate knows.
pub(crate) fn name_of_index(index: u8) -> String {
    caps::all()
        .into_iter()
        .find(|c| c.index() == index)
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("capability {index}"))
}

/// Docker's 14 default capabilities.
pub fn default_capabilities() -> CapSet {
    DOCKER_DEFAULT_CAPS.into_iter().collect()
}

fn is_all(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("ALL") || name.trim().eq_ignore_ascii_case("CAP_ALL")
}

/// Resolves `add`/`drop` the way Docker does: `drop = ["ALL"]` starts from nothing, otherwise
/// from [`default_capabilities`] minus `drop`; then `add` (`"ALL"` = every capability).
///
/// Unknown names are an error naming the list and the entry.
pub fn resolve_capabilities(cfg: &CapabilityConfig) -> Result<CapSet> {
    let drops = parse_list("drop", &cfg.drop)?;
    let adds = parse_list("add", &cfg.add)?;
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
pub(crate) struct ParsedList {
    pub(crate) all: bool,
    pub(crate) named: CapSet,
}

pub(crate) fn parse_list(list: &'static str, names: &[String]) -> Result<ParsedList> {
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

    fn cfg(add: &[&str], drop: &[&str]) -> CapabilityConfig {
        CapabilityConfig {
            add: add.iter().map(|s| s.to_string()).collect(),
            drop: drop.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn names_with_and_without_prefix_in_any_case() {
        for name in [
            "CAP_NET_ADMIN",
            "NET_ADMIN",
            "net_admin",
            "Cap_Net_Admin",
            " net_admin ",
        ] {
            assert_eq!(
                parse_capability(name),
                Some(Capability::CAP_NET_ADMIN),
                "{name}"
            );
        }
        assert_eq!(parse_capability("ALL"), None);
        assert_eq!(parse_capability(""), None);
        assert_eq!(parse_capability("CAP_"), None);
        assert_eq!(parse_capability("NET_ADMINX"), None);
    }

    #[test]
    fn default_mask_is_dockers() {
        assert_eq!(default_capabilities().bits(), DOCKER_DEFAULT_CAPS_MASK);
        assert_eq!(
            resolve_capabilities(&cfg(&[], &[])).unwrap().bits(),
            DOCKER_DEFAULT_CAPS_MASK
        );
    }

    #[test]
    fn drop_all_then_add() {
        let set = resolve_capabilities(&cfg(&["net_bind_service"], &["ALL"])).unwrap();
        assert_eq!(
            set,
            CapSet::from_bits(Capability::CAP_NET_BIND_SERVICE.bitmask())
        );
        assert!(resolve_capabilities(&cfg(&[], &["all"]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn default_minus_drop_plus_add() {
        let set = resolve_capabilities(&cfg(&["SYS_ADMIN"], &["NET_RAW", "CAP_MKNOD"])).unwrap();
        let expected = DOCKER_DEFAULT_CAPS_MASK
            & !Capability::CAP_NET_RAW.bitmask()
            & !Capability::CAP_MKNOD.bitmask()
            | Capability::CAP_SYS_ADMIN.bitmask();
        assert_eq!(set.bits(), expected);
        // Dropping something not in the defaults is harmless; add wins over drop.
        let set = resolve_capabilities(&cfg(&["chown"], &["chown", "sys_time"])).unwrap();
        assert_eq!(set.bits(), DOCKER_DEFAULT_CAPS_MASK);
    }

    #[test]
    fn add_all_is_every_known_capability() {
        let set = resolve_capabilities(&cfg(&["ALL"], &[])).unwrap();
        assert_eq!(set, CapSet::all());
        assert!(set.contains(Capability::CAP_CHECKPOINT_RESTORE));
    }

    #[test]
    fn unknown_names_name_the_entry() {
        let err = resolve_capabilities(&cfg(&["NET_ADMIN", "CAP_FLY"], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"capabilities.add[1]: unknown capability "CAP_FLY""#
        );
        let err = resolve_capabilities(&cfg(&[], &["bogus"])).unwrap_err();
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
}
