//! The limits a container asks for, in Docker's terms, and the unit conversions to the kernel's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::devices::DeviceRule;

/// CFS period used for `cpus` (µs); Docker and the kernel default.
pub const CPU_PERIOD_US: u64 = 100_000;
/// Docker's minimum for `memory` and `memory_reservation` (6 MiB): below it the container
/// cannot even start its runtime's processes.
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// Resource limits for one container. Every field is optional: `None` (or an empty list)
/// leaves the kernel's default, which is "unlimited" for all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// Memory limit in bytes (v1 `memory.limit_in_bytes`, v2 `memory.max`).
    pub memory: Option<u64>,
    /// Memory + swap in bytes, Docker semantics: a total, not the swap alone; -1 = unlimited
    /// swap. Unset with `memory` set means twice `memory` (Docker's default) where the kernel
    /// accounts swap. v1 `memory.memsw.limit_in_bytes`, v2 `memory.swap.max` = total - memory.
    pub memory_swap: Option<i64>,
    /// Soft limit in bytes (v1 `memory.soft_limit_in_bytes`, v2 `memory.low`).
    pub memory_reservation: Option<u64>,
    /// CPUs as a fraction: 1.5 = one and a half CPUs of time per period
    /// (v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`, v2 `cpu.max`).
    pub cpus: Option<f64>,
    /// CFS period in µs (1000..=1000000) that `cpus` is a quota per; `None` is
    /// [`CPU_PERIOD_US`]. Set alone, only the period is written (as runc does).
    // Left out when unset: records and `box inspect` of box.toml containers stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<u64>,
    /// v1 realtime group scheduling: µs of realtime CPU time per `cpu_rt_period`
    /// (`cpu.rt_runtime_us`; -1 = no limit). cgroup2 has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_runtime: Option<i64>,
    /// v1 realtime scheduling period in µs (`cpu.rt_period_us`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_period: Option<u64>,
    /// Relative CPU weight, v1 shares 2..=262144, 1024 = default (v1 `cpu.shares`; v2
    /// `cpu.weight` after [`shares_to_weight`]).
    pub cpu_shares: Option<u64>,
    /// CPUs the container may run on, a list like `"0-1,3"` (`cpuset.cpus`).
    pub cpuset_cpus: Option<String>,
    /// NUMA memory nodes the container may use, a list like `"0"` (`cpuset.mems`).
    pub cpuset_mems: Option<String>,
    /// Maximum number of tasks (processes and threads); -1 = unlimited (`pids.max`).
    pub pids: Option<i64>,
    /// Relative block IO weight 10..=1000 (v1 `blkio.weight` or `blkio.bfq.weight`;
    /// v2 `io.bfq.weight`, else `io.weight` after [`io_weight_to_v2`]).
    pub io_weight: Option<u16>,
    /// Read bytes per second, per device (v1 `blkio.throttle.read_bps_device`, v2 `io.max` rbps).
    pub io_read_bps: Vec<DeviceLimit>,
    /// Write bytes per second, per device (`…write_bps_device`, v2 wbps).
    pub io_write_bps: Vec<DeviceLimit>,
    /// Read operations per second, per device (`…read_iops_device`, v2 riops).
    pub io_read_iops: Vec<DeviceLimit>,
    /// Write operations per second, per device (`…write_iops_device`, v2 wiops).
    pub io_write_iops: Vec<DeviceLimit>,
    /// The device policy: `Some(rules)` denies every device except what a rule allows (v1
    /// `devices.deny`/`devices.allow`, v2 a BPF device program; both on a hybrid host);
    /// [`crate::DEFAULT_DEVICE_RULES`] is Docker's. `None` leaves devices as the parent
    /// cgroup has them: everything, on an ordinary host.
    pub devices: Option<Vec<DeviceRule>>,
    /// Huge page limits in bytes, per page size (v1 `hugetlb.<size>.limit_in_bytes`, v2
    /// `hugetlb.<size>.max`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hugetlb: Vec<HugetlbLimit>,
    /// RDMA limits per device (`rdma.max`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rdma: BTreeMap<String, RdmaLimit>,
    /// Raw cgroup2 files and their values, written into the container's cgroup2 directory
    /// last (OCI's `linux.resources.unified`); cgroup2 only, and each file's controller must
    /// be on cgroup2.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unified: BTreeMap<String, String>,
}

/// A limit on one huge page size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HugetlbLimit {
    /// The kernel's name of the page size: `2MB`, `1GB`, `64KB`.
    pub page_size: String,
    pub limit: u64,
}

/// Limits on one RDMA device; `None` leaves that one as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdmaLimit {
    pub hca_handles: Option<u32>,
    pub hca_objects: Option<u32>,
}

/// A throttle on one block device, named by its major:minor numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLimit {
    pub major: u32,
    pub minor: u32,
    /// Bytes or operations per second, depending on the list it is in.
    pub rate: u64,
}

/// How swap is to be limited, after Docker's defaulting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Swap {
    /// Memory + swap total in bytes.
    Total(u64),
    Unlimited,
}

impl Resources {
    /// True when any memory-controller field is set.
    pub(crate) fn wants_memory(&self) -> bool {
        self.memory.is_some() || self.memory_swap.is_some() || self.memory_reservation.is_some()
    }
    pub(crate) fn wants_cpu(&self) -> bool {
        self.cpus.is_some()
            || self.cpu_shares.is_some()
            || self.cpu_period.is_some()
            || self.wants_cpu_rt()
    }
    pub(crate) fn wants_cpu_rt(&self) -> bool {
        self.cpu_rt_runtime.is_some() || self.cpu_rt_period.is_some()
    }

    /// The CFS period in force: the one asked for, else [`CPU_PERIOD_US`].
    pub(crate) fn period_us(&self) -> u64 {
        self.cpu_period.unwrap_or(CPU_PERIOD_US)
    }

    /// The CFS quota in µs for `cpus` over [`Resources::period_us`].
    pub(crate) fn quota_us(&self) -> Option<u64> {
        self.cpus
            .map(|cpus| (cpus * self.period_us() as f64).round() as u64)
    }
    pub(crate) fn wants_cpuset(&self) -> bool {
        self.cpuset_cpus.is_some() || self.cpuset_mems.is_some()
    }
    pub(crate) fn wants_io(&self) -> bool {
        self.io_weight.is_some() || self.io_throttles().iter().any(|(_, l)| !l.is_empty())
    }

    /// The four throttle lists with their field names, in a fixed order.
    pub(crate) fn io_throttles(&self) -> [(&'static str, &[DeviceLimit]); 4] {
        [
            ("io_read_bps", &self.io_read_bps),
            ("io_write_bps", &self.io_write_bps),
            ("io_read_iops", &self.io_read_iops),
            ("io_write_iops", &self.io_write_iops),
        ]
    }

    /// The swap limit to write and whether the user asked for it (an explicit value must be
    /// honoured or refused; Docker's 2×memory default is skipped where swap is not accounted).
    pub(crate) fn swap(&self) -> Option<(Swap, bool)> {
        match (self.memory_swap, self.memory) {
            (Some(-1), _) => Some((Swap::Unlimited, true)),
            (Some(total), _) => Some((Swap::Total(total.max(0) as u64), true)),
            (None, Some(mem)) => Some((Swap::Total(mem.saturating_mul(2)), false)),
            (None, None) => None,
        }
    }
}

/// CFS quota in µs per [`CPU_PERIOD_US`] for a fractional CPU count (1.5 → 150000).
pub fn cpu_quota_us(cpus: f64) -> u64 {
    (cpus * CPU_PERIOD_US as f64).round() as u64
}

/// Convert v1 `cpu.shares` (2..=262144, default 1024) to v2 `cpu.weight` (1..=10000, default
/// 100), with the logarithmic mapping that runc and crun adopted in 2025: it keeps the
/// defaults aligned (1024 → 100) and both ends of the ranges (2 → 1, 262144 → 10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    // A parabola in log2(shares) through (1, 0), (10, 2) and (18, 4) in log10(weight).
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    (10f64.powf(exponent).ceil() as u64).clamp(1, 10_000)
}

/// Convert a v1 blkio weight (10..=1000) to v2 `io.weight` (1..=10000), linearly, as runc does.
pub fn io_weight_to_v2(weight: u16) -> u64 {
    let w = u64::from(weight.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_to_quota() {
        assert_eq!(cpu_quota_us(1.5), 150_000);
        assert_eq!(cpu_quota_us(0.5), 50_000);
        assert_eq!(cpu_quota_us(0.01), 1_000);
        assert_eq!(cpu_quota_us(2.0), 200_000);
    }

    #[test]
    fn shares_weight_conversion() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(512), 59);
        assert_eq!(shares_to_weight(2048), 174);
        let mut last = 0;
        for s in (2..=262_144).step_by(97) {
            let w = shares_to_weight(s);
            assert!(w >= last && (1..=10_000).contains(&w), "{s} -> {w}");
            last = w;
        }
    }

    #[test]
    fn io_weight_conversion() {
        assert_eq!(io_weight_to_v2(10), 1);
        assert_eq!(io_weight_to_v2(500), 4950);
        assert_eq!(io_weight_to_v2(1000), 10_000);
    }

    #[test]
    fn swap_defaults_like_docker() {
        let mut r = Resources {
            memory: Some(100),
            ..Default::default()
        };
        assert_eq!(r.swap(), Some((Swap::Total(200), false)));
        r.memory_swap = Some(-1);
        assert_eq!(r.swap(), Some((Swap::Unlimited, true)));
        r.memory_swap = Some(150);
        assert_eq!(r.swap(), Some((Swap::Total(150), true)));
        assert_eq!(Resources::default().swap(), None);
    }
}
