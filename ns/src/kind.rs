use std::fmt;

use nix::sched::CloneFlags;

/// One kind of Linux namespace.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cgroup,
    Ipc,
    Mnt,
    Net,
    Pid,
    Time,
    User,
    Uts,
}

impl Kind {
    /// Every kind, in the order `/proc/PID/ns/` lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Cgroup,
        Kind::Ipc,
        Kind::Mnt,
        Kind::Net,
        Kind::Pid,
        Kind::Time,
        Kind::User,
        Kind::Uts,
    ];

    /// The `CLONE_NEW*` flag that creates this kind.
    pub fn clone_flag(self) -> CloneFlags {
        match self {
            Kind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Kind::Ipc => CloneFlags::CLONE_NEWIPC,
            Kind::Mnt => CloneFlags::CLONE_NEWNS,
            Kind::Net => CloneFlags::CLONE_NEWNET,
            Kind::Pid => CloneFlags::CLONE_NEWPID,
            // nix has no name for it; the kernel's value is stable ABI.
            Kind::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
            Kind::User => CloneFlags::CLONE_NEWUSER,
            Kind::Uts => CloneFlags::CLONE_NEWUTS,
        }
    }

    /// The file name under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Kind::Cgroup => "cgroup",
            Kind::Ipc => "ipc",
            Kind::Mnt => "mnt",
            Kind::Net => "net",
            Kind::Pid => "pid",
            Kind::Time => "time",
            Kind::User => "user",
            Kind::Uts => "uts",
        }
    }

    /// Parses a `/proc/PID/ns/` name (`mnt` also accepts `mount`, as Docker users write it).
    pub fn from_name(name: &str) -> Option<Kind> {
        let name = if name == "mount" { "mnt" } else { name };
        Kind::ALL.into_iter().find(|k| k.proc_name() == name)
    }

    /// The union of the clone flags of `kinds`.
    pub fn flags_of(kinds: impl IntoIterator<Item = Kind>) -> CloneFlags {
        kinds
            .into_iter()
            .fold(CloneFlags::empty(), |acc, k| acc | k.clone_flag())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.proc_name()), Some(kind));
        }
        assert_eq!(Kind::from_name("mount"), Some(Kind::Mnt));
        assert_eq!(Kind::from_name("network"), None);
    }

    #[test]
    fn flags_are_distinct() {
        let all = Kind::flags_of(Kind::ALL);
        assert_eq!(all.bits().count_ones(), 8);
        assert_eq!(Kind::Time.clone_flag().bits(), 0x80);
    }
}
