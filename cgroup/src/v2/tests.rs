//! v2 file formats against prepared directories holding what the kernel would have.

use super::*;
use crate::error::Error;
use crate::report::{Limits, Stats};
use crate::resources::{DeviceLimit, Resources};
use crate::testing::{cat, dir, files};

fn v2_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    files(
        d.path(),
        &[
            ("memory.max", "max\n"),
            ("memory.swap.max", "max\n"),
            ("memory.low", "0\n"),
            ("memory.current", "1000\n"),
            ("memory.peak", "2000\n"),
            ("memory.swap.current", "0\n"),
            (
                "memory.events",
                "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
            ),
            ("cpu.max", "max 100000\n"),
            ("cpu.weight", "100\n"),
            (
                "cpu.stat",
                "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 3\nthrottled_usec 20\n",
            ),
            ("cpuset.cpus", "\n"),
            ("cpuset.mems", "\n"),
            ("pids.max", "max\n"),
            ("pids.current", "2\n"),
            ("io.max", ""),
            ("io.weight", "default 100\n"),
            ("io.stat", "8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=4 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n"),
        ],
    );
    d
}

fn sub(c: crate::layout::Controller) -> &'static dyn crate::subsystem::Subsystem {
    *SUBSYSTEMS.iter().find(|s| s.controller() == c).unwrap()
}

use crate::layout::Controller::{Cpu as CPU, Io as IO, Memory as MEM, Pids as PIDS};

#[test]
fn memory_max_swap_and_low() {
    let d = v2_dir();
    let res = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(96 << 20),
        memory_reservation: Some(32 << 20),
        ..Default::default()
    };
    sub(MEM).apply(&dir(d.path()), &res).unwrap();
    assert_eq!(cat(d.path(), "memory.max"), "67108864");
    // v2 limits swap alone: total 96m - memory 64m.
    assert_eq!(cat(d.path(), "memory.swap.max"), "33554432");
    assert_eq!(cat(d.path(), "memory.low"), "33554432");
    let mut l = Limits::default();
    sub(MEM).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.memory_swap, Some(96 << 20));
    assert!(l.mismatches(&res).is_empty(), "{:?}", l.mismatches(&res));

    let unlimited = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(-1),
        ..Default::default()
    };
    sub(MEM).apply(&dir(d.path()), &unlimited).unwrap();
    assert_eq!(cat(d.path(), "memory.swap.max"), "max");
    let mut l = Limits::default();
    sub(MEM).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.memory_swap, None);
}

#[test]
fn memory_swap_without_swap_file() {
    let d = v2_dir();
    std::fs::remove_file(d.path().join("memory.swap.max")).unwrap();
    let mut res = Resources {
        memory: Some(64 << 20),
        ..Default::default()
    };
    sub(MEM).apply(&dir(d.path()), &res).unwrap();
    res.memory_swap = Some(128 << 20);
    let err = sub(MEM).apply(&dir(d.path()), &res).unwrap_err();
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
fn memory_stats_and_oom_kills() {
    let d = v2_dir();
    let mut s = Stats::default();
    sub(MEM).stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(
        (s.memory_usage, s.memory_peak, s.swap_usage, s.oom_kills),
        (Some(1000), Some(2000), Some(0), Some(1))
    );
}

#[test]
fn cpu_max_and_weight() {
    let d = v2_dir();
    let mut l = Limits::default();
    sub(CPU).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!((l.cpu_quota_us, l.cpu_period_us), (None, Some(100_000)));
    let res = Resources {
        cpus: Some(1.5),
        cpu_shares: Some(1024),
        ..Default::default()
    };
    sub(CPU).apply(&dir(d.path()), &res).unwrap();
    assert_eq!(cat(d.path(), "cpu.max"), "150000 100000");
    assert_eq!(cat(d.path(), "cpu.weight"), "100");
    sub(CPU)
        .apply(
            &dir(d.path()),
            &Resources {
                cpu_shares: Some(512),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cat(d.path(), "cpu.weight"), "59");
    sub(CPU).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.cpus(), Some(1.5));
    assert_eq!(l.cpu_weight, Some(59));
}

#[test]
fn cpu_max_with_another_period_or_a_period_alone() {
    let d = v2_dir();
    let res = Resources {
        cpus: Some(0.5),
        cpu_period: Some(50_000),
        ..Default::default()
    };
    sub(CPU).apply(&dir(d.path()), &res).unwrap();
    assert_eq!(cat(d.path(), "cpu.max"), "25000 50000");
    let mut l = Limits::default();
    sub(CPU).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(
        (l.cpu_quota_us, l.cpu_period_us),
        (Some(25_000), Some(50_000))
    );
    let period_only = Resources {
        cpu_period: Some(20_000),
        ..Default::default()
    };
    sub(CPU).apply(&dir(d.path()), &period_only).unwrap();
    assert_eq!(cat(d.path(), "cpu.max"), "max 20000");
}

#[test]
fn cpu_stat_in_nanoseconds() {
    let d = v2_dir();
    let mut s = Stats::default();
    sub(CPU).stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!(s.cpu_usage_ns, Some(1_500_000));
    assert_eq!(
        (s.cpu_user_ns, s.cpu_system_ns),
        (Some(1_000_000), Some(500_000))
    );
    assert_eq!((s.cpu_periods, s.cpu_throttled_periods), (Some(7), Some(3)));
    assert_eq!(s.cpu_throttled_ns, Some(20_000));
}

#[test]
fn pids_max() {
    let d = v2_dir();
    sub(PIDS)
        .apply(
            &dir(d.path()),
            &Resources {
                pids: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cat(d.path(), "pids.max"), "100");
    let mut l = Limits::default();
    sub(PIDS).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(l.pids, Some(100));
}

#[test]
fn io_max_lines_and_weight() {
    let d = v2_dir();
    let dev = |minor, rate| DeviceLimit {
        major: 8,
        minor,
        rate,
    };
    let res = Resources {
        io_weight: Some(500),
        io_read_bps: vec![dev(0, 1 << 20)],
        ..Default::default()
    };
    sub(IO).apply(&dir(d.path()), &res).unwrap();
    assert_eq!(cat(d.path(), "io.max"), "8:0 rbps=1048576");
    assert_eq!(cat(d.path(), "io.weight"), "4950");
    // Several limits of one device go in one line.
    let res = Resources {
        io_read_bps: vec![dev(16, 1000)],
        io_write_iops: vec![dev(16, 20)],
        ..Default::default()
    };
    sub(IO).apply(&dir(d.path()), &res).unwrap();
    assert_eq!(cat(d.path(), "io.max"), "8:16 rbps=1000 wiops=20");
    // What the kernel shows back: every key, "max" where unlimited.
    files(
        d.path(),
        &[("io.max", "8:16 rbps=1000 wbps=max riops=max wiops=20\n")],
    );
    let mut l = Limits::default();
    sub(IO).read_limits(&dir(d.path()), &mut l).unwrap();
    assert_eq!(
        (l.io_read_bps.clone(), l.io_write_iops.clone()),
        (vec![dev(16, 1000)], vec![dev(16, 20)])
    );
    assert!(l.io_write_bps.is_empty());
    assert!(l.mismatches(&res).is_empty());
    let mut s = Stats::default();
    sub(IO).stats(&dir(d.path()), &mut s).unwrap();
    assert_eq!((s.io_read_bytes, s.io_write_bytes), (Some(4100), Some(512)));
}

#[test]
fn io_bfq_weight_preferred() {
    let d = v2_dir();
    files(d.path(), &[("io.bfq.weight", "default 100\n")]);
    sub(IO)
        .apply(
            &dir(d.path()),
            &Resources {
                io_weight: Some(300),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cat(d.path(), "io.bfq.weight"), "300");
    assert_eq!(cat(d.path(), "io.weight"), "default 100\n");
}
