//! v1 file formats against prepared directories holding what the kernel would have.

use std::path::Path;

use super::*;
use crate::error::Error;
use crate::report::{Limits, Stats};
use crate::resources::{DeviceLimit, Resources};
use crate::testing::{cat, dir, files};
use cpuset::{inherit, Placement};

const UNLIMITED: &str = "9223372036854771712\n";

fn memory_dir(swap_accounting: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("memory.limit_in_bytes", UNLIMITED),
            ("memory.soft_limit_in_bytes", UNLIMITED),
            ("memory.usage_in_bytes", "4096\n"),
            ("memory.max_usage_in_bytes", "8192\n"),
            ("memory.failcnt", "0\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
            ),
        ],
    );
    if swap_accounting {
        files(
            d.path(),
            &[
                ("memory.memsw.limit_in_bytes", UNLIMITED),
                ("memory.memsw.usage_in_bytes", "6144\n"),
            ],
        );
    }
    d
}

fn apply(sub: &dyn Subsystem, path: &Path, res: &Resources) -> Result<(), Error> {
    sub.apply(&dir(path), res)
}

#[test]
fn memory_limit_swap_and_soft_limit() {
    let d = memory_dir(true);
    let res = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(128 << 20),
        memory_reservation: Some(32 << 20),
        ..Default::default()
    };
    apply(&memory::Memory, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "memory.limit_in_bytes"), "67108864");
    assert_eq!(cat(d.path(), "memory.memsw.limit_in_bytes"), "134217728");
    assert_eq!(cat(d.path(), "memory.soft_limit_in_bytes"), "33554432");
    let mut l = Limits::default();
    memory::Memory.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!((l.memory, l.memory_swap), (Some(64 << 20), Some(128 << 20)));
    assert!(l.mismatches(&res).is_empty(), "{:?}", l.mismatches(&res));
}

#[test]
fn memory_swap_defaults_and_unlimited() {
    let d = memory_dir(true);
    let mut res = Resources {
        memory: Some(64 << 20),
        ..Default::default()
    };
    // Docker: swap unset = as much swap as memory, i.e. memsw = 2 × memory.
    apply(&memory::Memory, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "memory.memsw.limit_in_bytes"), "134217728");
    res.memory_swap = Some(-1);
    apply(&memory::Memory, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "memory.memsw.limit_in_bytes"), "-1");
}

#[test]
fn memory_without_swap_accounting() {
    let d = memory_dir(false);
    let mut res = Resources {
        memory: Some(64 << 20),
        ..Default::default()
    };
    apply(&memory::Memory, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "memory.limit_in_bytes"), "67108864");
    res.memory_swap = Some(128 << 20);
    let err = apply(&memory::Memory, d.path(), &res).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                field: "memory_swap",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn memory_stats_and_unlimited_readback() {
    let d = memory_dir(true);
    let mut l = Limits::default();
    memory::Memory.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l, Limits::default());
    let mut s = Stats::default();
    memory::Memory.stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(s.memory_usage, Some(4096));
    assert_eq!(s.memory_peak, Some(8192));
    assert_eq!(s.swap_usage, Some(2048));
    assert_eq!(s.oom_kills, Some(2));
}

#[test]
fn cpu_quota_period_and_shares() {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("cpu.shares", "1024\n"),
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
            (
                "cpu.stat",
                "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n",
            ),
        ],
    );
    let mut l = Limits::default();
    cpu::Cpu.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.cpu_quota_us, None);
    let res = Resources {
        cpus: Some(1.5),
        cpu_shares: Some(512),
        ..Default::default()
    };
    apply(&cpu::Cpu, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "cpu.cfs_quota_us"), "150000");
    assert_eq!(cat(d.path(), "cpu.cfs_period_us"), "100000");
    assert_eq!(cat(d.path(), "cpu.shares"), "512");
    cpu::Cpu.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.cpus(), Some(1.5));
    let mut s = Stats::default();
    cpu::Cpu.stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(
        (s.cpu_periods, s.cpu_throttled_periods, s.cpu_throttled_ns),
        (Some(10), Some(4), Some(5000))
    );
}

#[test]
fn cpu_period_other_than_100ms_and_realtime() {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
            ("cpu.rt_period_us", "1000000\n"),
            ("cpu.rt_runtime_us", "0\n"),
        ],
    );
    let res = Resources {
        cpus: Some(0.25),
        cpu_period: Some(200_000),
        cpu_rt_period: Some(500_000),
        cpu_rt_runtime: Some(10_000),
        ..Default::default()
    };
    apply(&cpu::Cpu, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "cpu.cfs_period_us"), "200000");
    assert_eq!(cat(d.path(), "cpu.cfs_quota_us"), "50000");
    assert_eq!(cat(d.path(), "cpu.rt_period_us"), "500000");
    assert_eq!(cat(d.path(), "cpu.rt_runtime_us"), "10000");
    let mut l = Limits::default();
    cpu::Cpu.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.cpus(), Some(0.25));
}

#[test]
fn cpuacct_usage() {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("cpuacct.usage", "123456789\n"),
            ("cpuacct.usage_user", "100000000\n"),
            ("cpuacct.usage_sys", "23456789\n"),
        ],
    );
    let mut s = Stats::default();
    cpuacct::Cpuacct.stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(s.cpu_usage_ns, Some(123_456_789));
    assert_eq!(s.cpu_user_ns, Some(100_000_000));
    assert_eq!(s.cpu_system_ns, Some(23_456_789));
}

#[test]
fn cpuset_inherits_empty_files_from_parent() {
    let parent = tempfile::tempdir().unwrap();
    files(
        parent.path(),
        &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
    );
    let child = tempfile::tempdir().unwrap();
    files(
        child.path(),
        &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")],
    );
    let res = Resources {
        cpuset_cpus: Some("1".into()),
        ..Default::default()
    };
    let (p, c) = (dir(parent.path()), dir(child.path()));
    let own = inherit(&p, &c, None, false, Some(&res)).unwrap();
    // cpus is the container's own, written by apply; only mems is copied.
    assert_eq!(cat(child.path(), "cpuset.cpus"), "\n");
    assert_eq!(cat(child.path(), "cpuset.mems"), "0");
    assert_eq!(own, Placement(["1".into(), "0".into()]));
    apply(&Cpuset, child.path(), &res).unwrap();
    assert_eq!(cat(child.path(), "cpuset.cpus"), "1");
    inherit(&p, &c, None, false, None).unwrap();
    assert_eq!(
        cat(child.path(), "cpuset.cpus"),
        "1",
        "a filled file is kept"
    );
}

/// Going down a path, each directory's values are its child's parent's: a fresh leaf gets
/// them without a read of its own files or its parent's.
#[test]
fn a_fresh_cpuset_is_written_from_the_values_its_parent_returned() {
    let (root, parent) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    files(
        root.path(),
        &[("cpuset.cpus", "0-3\n"), ("cpuset.mems", "0\n")],
    );
    files(
        parent.path(),
        &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "\n")],
    );
    let above = inherit(&dir(root.path()), &dir(parent.path()), None, false, None).unwrap();
    assert_eq!(
        above,
        Placement(["0-1".into(), "0".into()]),
        "its own, and a copy"
    );
    // The parent's files are gone: nothing may read them now.
    std::fs::remove_file(parent.path().join("cpuset.cpus")).unwrap();
    std::fs::remove_file(parent.path().join("cpuset.mems")).unwrap();
    let leaf = tempfile::tempdir().unwrap();
    // What a fresh leaf reads as does not matter: it is not read (these would be kept).
    files(
        leaf.path(),
        &[("cpuset.cpus", "7\n"), ("cpuset.mems", "7\n")],
    );
    let own = inherit(
        &dir(parent.path()),
        &dir(leaf.path()),
        Some(&above),
        true,
        None,
    )
    .unwrap();
    assert_eq!(own, above);
    assert_eq!(cat(leaf.path(), "cpuset.cpus"), "0-1");
    assert_eq!(cat(leaf.path(), "cpuset.mems"), "0");
}

#[test]
fn pids_max() {
    let d = tempfile::tempdir().unwrap();
    files(d.path(), &[("pids.max", "max\n"), ("pids.current", "3\n")]);
    let mut res = Resources {
        pids: Some(32),
        ..Default::default()
    };
    apply(&pids::Pids, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "pids.max"), "32");
    res.pids = Some(-1);
    apply(&pids::Pids, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "pids.max"), "max");
    let mut s = Stats::default();
    pids::Pids.stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(s.pids_current, Some(3));
}

#[test]
fn blkio_weight_throttles_and_bytes() {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("blkio.bfq.weight", "100\n"),
            ("blkio.throttle.read_bps_device", ""),
            ("blkio.throttle.write_bps_device", ""),
            ("blkio.throttle.read_iops_device", ""),
            ("blkio.throttle.write_iops_device", ""),
            (
                "blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 100\n8:0 Write 50\n8:16 Read 1\n8:16 Total 1\nTotal 151\n",
            ),
        ],
    );
    let dev = |rate| {
        vec![DeviceLimit {
            major: 8,
            minor: 0,
            rate,
        }]
    };
    let res = Resources {
        io_weight: Some(300),
        io_read_bps: dev(1 << 20),
        io_write_iops: dev(100),
        ..Default::default()
    };
    // No blkio.weight (no CFQ on this kernel): BFQ's file takes the weight.
    apply(&blkio::Blkio, d.path(), &res).unwrap();
    assert_eq!(cat(d.path(), "blkio.bfq.weight"), "300");
    assert_eq!(
        cat(d.path(), "blkio.throttle.read_bps_device"),
        "8:0 1048576"
    );
    assert_eq!(cat(d.path(), "blkio.throttle.write_iops_device"), "8:0 100");
    assert_eq!(cat(d.path(), "blkio.throttle.write_bps_device"), "");
    let mut l = Limits::default();
    blkio::Blkio.read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(
        (l.io_weight, l.io_read_bps.clone()),
        (Some(300), dev(1 << 20))
    );
    assert!(l.mismatches(&res).is_empty());
    let mut s = Stats::default();
    blkio::Blkio.stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!((s.io_read_bytes, s.io_write_bytes), (Some(101), Some(50)));
}

#[test]
fn blkio_weight_without_any_weight_file() {
    let d = tempfile::tempdir().unwrap();
    let res = Resources {
        io_weight: Some(300),
        ..Default::default()
    };
    let err = apply(&blkio::Blkio, d.path(), &res).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                field: "io_weight",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn freezer_states() {
    let d = tempfile::tempdir().unwrap();
    files(d.path(), &[("freezer.state", "THAWED\n")]);
    let frozen = freezer::freeze(&dir(d.path()), std::time::Duration::from_millis(10)).unwrap();
    assert!(frozen);
    freezer::thaw(&dir(d.path())).unwrap();
    assert_eq!(cat(d.path(), "freezer.state"), "THAWED");
}
