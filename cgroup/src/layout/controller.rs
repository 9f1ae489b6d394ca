use std::fmt;

use serde::{Deserialize, Serialize};

/// A cgroup controller (a v1 "subsystem"). One enum for both versions: `Io` is v1's `blkio`,
/// and on v2 `Cpu` also provides what v1 splits into `Cpuacct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Controller {
    Cpu,
    Cpuacct,
    Cpuset,
    Memory,
    Pids,
    Io,
    Freezer,
    Devices,
    Hugetlb,
    NetCls,
    NetPrio,
    PerfEvent,
    Rdma,
    Misc,
}

const ALL: [Controller; 14] = [
    Controller::Cpu,
    Controller::Cpuacct,
    Controller::Cpuset,
    Controller::Memory,
    Controller::Pids,
    Controller::Io,
    Controller::Freezer,
    Controller::Devices,
    Controller::Hugetlb,
    Controller::NetCls,
    Controller::NetPrio,
    Controller::PerfEvent,
    Controller::Rdma,
    Controller::Misc,
];

impl Controller {
    /// Name in v1 mount options and `/proc/PID/cgroup` (`blkio` for [`Controller::Io`]).
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Cpuset => "cpuset",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Io => "blkio",
            Controller::Freezer => "freezer",
            Controller::Devices => "devices",
            Controller::Hugetlb => "hugetlb",
            Controller::NetCls => "net_cls",
            Controller::NetPrio => "net_prio",
            Controller::PerfEvent => "perf_event",
            Controller::Rdma => "rdma",
            Controller::Misc => "misc",
        }
    }

    /// Name in v2 `cgroup.controllers`, if v2 has such a controller.
    pub fn v2_name(self) -> Option<&'static str> {
        match self {
            Controller::Cpuacct
            | Controller::Freezer
            | Controller::Devices
            | Controller::NetCls
            | Controller::NetPrio => None,
            Controller::Io => Some("io"),
            other => Some(other.v1_name()),
        }
    }

    /// The controller a v1 mount option names, if any (`rw`, `name=systemd`… are not).
    pub fn from_v1_name(name: &str) -> Option<Controller> {
        ALL.into_iter().find(|c| c.v1_name() == name)
    }

    /// The controller a word of v2 `cgroup.controllers` names.
    pub fn from_v2_name(name: &str) -> Option<Controller> {
        ALL.into_iter().find(|c| c.v2_name() == Some(name))
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.v2_name().unwrap_or(self.v1_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in ALL {
            assert_eq!(Controller::from_v1_name(c.v1_name()), Some(c));
            if let Some(n) = c.v2_name() {
                assert_eq!(Controller::from_v2_name(n), Some(c));
            }
        }
        assert_eq!(Controller::from_v1_name("blkio"), Some(Controller::Io));
        assert_eq!(Controller::from_v2_name("io"), Some(Controller::Io));
        assert_eq!(Controller::from_v1_name("name=systemd"), None);
        assert_eq!(Controller::Io.to_string(), "io");
        assert_eq!(Controller::Cpuacct.to_string(), "cpuacct");
    }
}
