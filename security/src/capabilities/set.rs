//! [`CapSet`]: a set of capabilities as the kernel's 64-bit mask, and capability names.

use std::fmt;

use caps::Capability;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{self, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A set of capabilities, stored as the kernel's 64-bit mask.
///
/// Serialized as a list of canonical names in number order (`["CAP_CHOWN", "CAP_KILL"]`), as
/// an OCI `config.json` lists them; deserialized from names as [`parse_capability`] reads them.
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
        // caps::all() builds a hash set: not for nothing (the child iterates sets too).
        let mut known: Vec<Capability> = if self.is_empty() {
            Vec::new()
        } else {
            caps::all()
                .into_iter()
                .filter(|c| self.contains(*c))
                .collect()
        };
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

    /// Whether every member of `self` is in `other`.
    pub fn is_subset(self, other: CapSet) -> bool {
        self.difference(other).is_empty()
    }

    /// The members' names, comma-separated, for messages.
    pub(crate) fn names(self) -> String {
        self.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
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

impl Serialize for CapSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let unnamed = self.difference(CapSet::all());
        if !unnamed.is_empty() {
            return Err(ser::Error::custom(format!(
                "capability bits {:#x} have no name this crate knows",
                unnamed.bits()
            )));
        }
        let mut seq = serializer.serialize_seq(None)?;
        for cap in self.iter() {
            seq.serialize_element(&cap.to_string())?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for CapSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = CapSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of capability names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CapSet, A::Error> {
                let mut set = CapSet::EMPTY;
                while let Some(name) = seq.next_element::<String>()? {
                    let cap = parse_capability(&name)
                        .ok_or_else(|| de::Error::custom(format!("unknown capability {name:?}")))?;
                    set.insert(cap);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(Names)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_set_is_a_list_of_names_in_json() {
        let set: CapSet = [Capability::CAP_KILL, Capability::CAP_CHOWN]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["CAP_CHOWN","CAP_KILL"]"#);
        assert_eq!(serde_json::from_str::<CapSet>(&json).unwrap(), set);
        assert_eq!(
            serde_json::from_str::<CapSet>(r#"["kill", "Cap_Chown"]"#).unwrap(),
            set
        );
        let err = serde_json::from_str::<CapSet>(r#"["CAP_KILL", "ALL"]"#).unwrap_err();
        assert!(
            err.to_string().starts_with(r#"unknown capability "ALL""#),
            "{err}"
        );
        let err = serde_json::to_string(&CapSet::from_bits(1 << 63)).unwrap_err();
        assert!(err.to_string().contains("no name"), "{err}");
    }
}
