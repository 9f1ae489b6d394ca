//! What the kernel reports back: limits as read from the control files, and usage.

use serde::{Deserialize, Serialize};

use crate::devices::{normalize, DeviceRule};
use crate::resources::{cpu_quota_us, shares_to_weight, DeviceLimit, Resources, Swap};

/// Limits read back from a container's cgroup files. `None` means unlimited (or, for
/// the optional knobs, not available on this host/version).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory + swap total in bytes (v2: `memory.max` + `memory.swap.max`).
    pub memory_swap: Option<u64>,
    /// Soft limit / `memory.low` in bytes (`None` when 0 or unlimited).
    pub memory_reservation: Option<u64>,
    /// CFS quota in µs per period.
    pub cpu_quota_us: Option<u64>,
    /// CFS period in µs.
    pub cpu_period_us: Option<u64>,
    /// v1 `cpu.shares`.
    pub cpu_shares: Option<u64>,
    /// v2 `cpu.weight`.
    pub cpu_weight: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// `pids.max`.
    pub pids: Option<u64>,
    /// v1 `blkio[.bfq].weight`, v2 `io.bfq.weight` or `io.weight` (kernel scale).
    pub io_weight: Option<u64>,
    pub io_read_bps: Vec<DeviceLimit>,
    pub io_write_bps: Vec<DeviceLimit>,
    pub io_read_iops: Vec<DeviceLimit>,
    pub io_write_iops: Vec<DeviceLimit>,
    /// The device rules of v1 `devices.list` (`["a *:* rwm"]` = no restriction); `None` on
    /// a host without the v1 devices controller, where the policy is a BPF program whose
    /// rules the kernel does not show.
    pub devices: Option<Vec<DeviceRule>>,
}

impl Limits {
    /// CPUs as a fraction (quota / period), `None` when unlimited.
    pub fn cpus(&self) -> Option<f64> {
        Some(self.cpu_quota_us? as f64 / self.cpu_period_us? as f64)
    }

    /// The fields of `wanted` that the kernel does not show as asked (empty = all applied).
    /// Unset fields of `wanted` are not checked; `cpu_shares` is checked against `cpu.weight`
    /// on v2 after conversion.
    pub fn mismatches(&self, wanted: &Resources) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |field, ok: bool| {
            if !ok {
                out.push(field)
            }
        };
        if let Some(m) = wanted.memory {
            check("memory", self.memory == Some(m));
        }
        if wanted.memory_swap.is_some() {
            let want = match wanted.swap() {
                Some((Swap::Total(t), _)) => Some(t),
                _ => None,
            };
            check("memory_swap", self.memory_swap == want);
        }
        if let Some(r) = wanted.memory_reservation {
            check("memory_reservation", self.memory_reservation == Some(r));
        }
        if let Some(c) = wanted.cpus {
            let ok = self.cpu_quota_us == Some(cpu_quota_us(c))
                && self.cpu_period_us == Some(crate::CPU_PERIOD_US);
            check("cpus", ok);
        }
        if let Some(s) = wanted.cpu_shares {
            let ok = self.cpu_shares == Some(s) || self.cpu_weight == Some(shares_to_weight(s));
            check("cpu_shares", ok);
        }
        if let Some(c) = &wanted.cpuset_cpus {
            check("cpuset_cpus", same_list(self.cpuset_cpus.as_deref(), c));
        }
        if let Some(m) = &wanted.cpuset_mems {
            check("cpuset_mems", same_list(self.cpuset_mems.as_deref(), m));
        }
        if let Some(p) = wanted.pids {
            check("pids", self.pids == u64::try_from(p).ok());
        }
        let pairs = [
            ("io_read_bps", &wanted.io_read_bps, &self.io_read_bps),
            ("io_write_bps", &wanted.io_write_bps, &self.io_write_bps),
            ("io_read_iops", &wanted.io_read_iops, &self.io_read_iops),
            ("io_write_iops", &wanted.io_write_iops, &self.io_write_iops),
        ];
        for (field, want, got) in pairs {
            check(field, want.iter().all(|d| got.contains(d)));
        }
        if let (Some(want), Some(got)) = (&wanted.devices, &self.devices) {
            check("devices", &normalize(want) == got);
        }
        out
    }
}

fn same_list(got: Option<&str>, want: &str) -> bool {
    match (got, crate::cpulist::parse(want)) {
        (Some(g), Ok(w)) => crate::cpulist::parse(g).map(|g| g == w).unwrap_or(false),
        _ => false,
    }
}

/// Usage figures of a container's cgroup; `None` where this host does not provide one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Memory in use, bytes (page cache included, as the kernel counts it against the limit).
    pub memory_usage: Option<u64>,
    /// Highest memory use seen, bytes (v1 `max_usage_in_bytes`, v2 `memory.peak`).
    pub memory_peak: Option<u64>,
    /// Swap in use, bytes (v2 `memory.swap.current`; v1 memsw usage minus memory usage).
    pub swap_usage: Option<u64>,
    /// Times the kernel OOM-killed a process of this cgroup.
    pub oom_kills: Option<u64>,
    /// CPU time used, ns.
    pub cpu_usage_ns: Option<u64>,
    pub cpu_user_ns: Option<u64>,
    pub cpu_system_ns: Option<u64>,
    /// CFS periods that had runnable tasks, and how many of them were throttled.
    pub cpu_periods: Option<u64>,
    pub cpu_throttled_periods: Option<u64>,
    /// Total time throttled, ns.
    pub cpu_throttled_ns: Option<u64>,
    /// Tasks (processes and threads) in the cgroup.
    pub pids_current: Option<u64>,
    /// Bytes read from and written to block devices.
    pub io_read_bytes: Option<u64>,
    pub io_write_bytes: Option<u64>,
}
