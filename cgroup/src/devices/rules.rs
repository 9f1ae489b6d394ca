//! The device rule model: one line of cgroup v1's `devices.allow` (`c 1:3 rwm`), typed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which devices a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// Every device, character and block (`a`); only as `a *:* rwm`.
    All,
    /// Character devices (`c`).
    Char,
    /// Block devices (`b`).
    Block,
}

impl DeviceKind {
    fn letter(self) -> char {
        match self {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }
}

/// What a rule lets a process do with a device: read (`r`) and write (`w`) it once open, and
/// create a node for it with `mknod` (`m`). The bits are the kernel's (`BPF_DEVCG_ACC_*`, the
/// same as v1's `ACC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceAccess(u8);

impl DeviceAccess {
    pub const MKNOD: DeviceAccess = DeviceAccess(1);
    pub const READ: DeviceAccess = DeviceAccess(2);
    pub const WRITE: DeviceAccess = DeviceAccess(4);
    /// `rw`: what Docker's `--device` gives by default, minus `m`.
    pub const RW: DeviceAccess = DeviceAccess(2 | 4);
    /// `rwm`: everything.
    pub const RWM: DeviceAccess = DeviceAccess(1 | 2 | 4);

    /// The kernel's bit mask.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every access in `other` is in `self`.
    pub fn contains(self, other: DeviceAccess) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: DeviceAccess) -> DeviceAccess {
        DeviceAccess(self.0 | other.0)
    }
}

impl fmt::Display for DeviceAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, letter) in [(Self::READ, "r"), (Self::WRITE, "w"), (Self::MKNOD, "m")] {
            if self.contains(bit) {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

impl FromStr for DeviceAccess {
    type Err = String;

    /// `r`, `w`, `m` in any order, each at most once, at least one.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid access {s:?}: use one or more of r, w and m (e.g. \"rw\")");
        let mut bits = 0;
        for ch in s.chars() {
            let bit = match ch {
                'r' => Self::READ.0,
                'w' => Self::WRITE.0,
                'm' => Self::MKNOD.0,
                _ => return Err(bad()),
            };
            if bits & bit != 0 {
                return Err(bad());
            }
            bits |= bit;
        }
        if bits == 0 {
            return Err(bad());
        }
        Ok(DeviceAccess(bits))
    }
}

/// One allow rule of a device policy: devices of `kind` with these numbers (`None` = any)
/// may be used with `access`. A policy is "deny everything, then allow each rule", as
/// Docker's and runc's; see [`DEFAULT_DEVICE_RULES`].
///
/// Written and read as v1's text form, `TYPE MAJOR:MINOR ACCESS` with `*` for any number
/// (`c 136:* rwm`); serde uses the same string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: DeviceAccess,
}

/// The largest major and minor numbers a Linux `dev_t` holds (12 and 20 bits).
pub const MAX_MAJOR: u32 = (1 << 12) - 1;
pub const MAX_MINOR: u32 = (1 << 20) - 1;

impl DeviceRule {
    /// Every device, every access: no restriction at all.
    pub const ALLOW_ALL: DeviceRule = DeviceRule {
        kind: DeviceKind::All,
        major: None,
        minor: None,
        access: DeviceAccess::RWM,
    };

    /// A character device rule (`None` = any number).
    pub const fn char(major: Option<u32>, minor: Option<u32>, access: DeviceAccess) -> Self {
        DeviceRule {
            kind: DeviceKind::Char,
            major,
            minor,
            access,
        }
    }

    /// A block device rule (`None` = any number).
    pub const fn block(major: Option<u32>, minor: Option<u32>, access: DeviceAccess) -> Self {
        DeviceRule {
            kind: DeviceKind::Block,
            major,
            minor,
            access,
        }
    }

    /// Whether the kernel can enforce this rule exactly on both cgroup versions. cgroup v1
    /// reads an `a` rule as "everything" whatever its numbers and access, so only
    /// `a *:* rwm` is accepted; numbers must fit a `dev_t`.
    pub fn check(&self) -> Result<(), String> {
        if self.kind == DeviceKind::All && *self != DeviceRule::ALLOW_ALL {
            return Err(format!(
                "{self}: an \"a\" rule cannot be narrowed (cgroup v1 reads it as every device); \
                 use \"a *:* rwm\" or separate \"c\" and \"b\" rules"
            ));
        }
        if self.major.is_some_and(|m| m > MAX_MAJOR) {
            return Err(format!("{self}: major number above {MAX_MAJOR}"));
        }
        if self.minor.is_some_and(|m| m > MAX_MINOR) {
            return Err(format!("{self}: minor number above {MAX_MINOR}"));
        }
        Ok(())
    }

    /// Whether this rule lets `access` to the device `kind` `major:minor` through (the v1
    /// kernel's `match_exception`); `kind` is `Char` or `Block`.
    pub fn allows(&self, kind: DeviceKind, major: u32, minor: u32, access: DeviceAccess) -> bool {
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.map_or(true, |m| m == major)
            && self.minor.map_or(true, |m| m == minor)
            && self.access.contains(access)
    }
}

/// Docker's and runc's default policy: `mknod` of any device (images create nodes; opening
/// them is what is checked), and read/write/mknod of the standard devices only. Everything
/// else, notably every block device and `/dev/kmsg` (`c 1:11`), is denied.
pub const DEFAULT_DEVICE_RULES: [DeviceRule; 11] = {
    use DeviceAccess as A;
    [
        DeviceRule::char(None, None, A::MKNOD),
        DeviceRule::block(None, None, A::MKNOD),
        DeviceRule::char(Some(1), Some(3), A::RWM), // /dev/null
        DeviceRule::char(Some(1), Some(5), A::RWM), // /dev/zero
        DeviceRule::char(Some(1), Some(7), A::RWM), // /dev/full
        DeviceRule::char(Some(1), Some(8), A::RWM), // /dev/random
        DeviceRule::char(Some(1), Some(9), A::RWM), // /dev/urandom
        DeviceRule::char(Some(5), Some(0), A::RWM), // /dev/tty
        DeviceRule::char(Some(5), Some(1), A::RWM), // /dev/console
        DeviceRule::char(Some(5), Some(2), A::RWM), // /dev/ptmx
        DeviceRule::char(Some(136), None, A::RWM),  // /dev/pts/*
    ]
};

/// The rules as the kernel keeps them: cgroup v1 merges a rule into an earlier one for the
/// same type and numbers (adding its access) and an allowed `a` drops every other rule. The
/// BPF program is built from the same list, so both versions decide alike.
pub fn normalize(rules: &[DeviceRule]) -> Vec<DeviceRule> {
    if rules.iter().any(|r| r.kind == DeviceKind::All) {
        return vec![DeviceRule::ALLOW_ALL];
    }
    let mut out: Vec<DeviceRule> = Vec::with_capacity(rules.len());
    for r in rules {
        let same = |o: &&mut DeviceRule| (o.kind, o.major, o.minor) == (r.kind, r.major, r.minor);
        match out.iter_mut().find(same) {
            Some(o) => o.access = o.access.union(r.access),
            None => out.push(*r),
        }
    }
    out
}

impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            num(self.major),
            num(self.minor),
            self.access
        )
    }
}

impl FromStr for DeviceRule {
    type Err = String;

    /// `TYPE MAJOR:MINOR ACCESS` as in `devices.list`, or a bare `a`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("invalid device rule {s:?}: expected \"TYPE MAJOR:MINOR ACCESS\" (e.g. \"c 1:3 rwm\")")
        };
        let mut words = s.split_whitespace();
        let kind = match words.next() {
            Some("a") => DeviceKind::All,
            Some("c") => DeviceKind::Char,
            Some("b") => DeviceKind::Block,
            _ => return Err(bad()),
        };
        let (numbers, access) = match (words.next(), words.next(), words.next()) {
            (None, _, _) if kind == DeviceKind::All => return Ok(DeviceRule::ALLOW_ALL),
            (Some(n), Some(a), None) => (n, a),
            _ => return Err(bad()),
        };
        let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
        let num = |t: &str| match t {
            "*" => Ok(None),
            t => t.parse().map(Some).map_err(|_| bad()),
        };
        Ok(DeviceRule {
            kind,
            major: num(major)?,
            minor: num(minor)?,
            access: access.parse()?,
        })
    }
}

impl From<DeviceRule> for String {
    fn from(r: DeviceRule) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for DeviceRule {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
