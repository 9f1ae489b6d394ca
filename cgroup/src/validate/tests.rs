use std::collections::BTreeMap;

use super::*;
use crate::resources::DeviceLimit;

pub(super) fn host(sys: &Path) -> Host {
    Host {
        online_cpus: [0, 1].into(),
        online_mems: [0].into(),
        sys_root: sys.to_path_buf(),
    }
}

/// A v2 layout with the usual controllers (pure: no files read).
pub(super) fn v2_all() -> Layout {
    Layout::from_mountinfo("1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
        .unwrap()
        .with_v2_controllers(
            [
                Controller::Cpu,
                Controller::Memory,
                Controller::Pids,
                Controller::Io,
                Controller::Cpuset,
            ]
            .into(),
        )
}

pub(super) fn field_of(r: &Resources, layout: &Layout) -> Option<&'static str> {
    r.validate_on(layout, &host(Path::new("/nonexistent")))
        .err()
        .map(|e| e.field)
}

#[test]
fn accepts_sane_values() {
    let r = Resources {
        memory: Some(200 << 20),
        memory_swap: Some(-1),
        memory_reservation: Some(100 << 20),
        cpus: Some(1.5),
        cpu_shares: Some(512),
        cpuset_cpus: Some("0-1".into()),
        cpuset_mems: Some("0".into()),
        pids: Some(128),
        io_weight: Some(500),
        ..Default::default()
    };
    assert_eq!(field_of(&r, &v2_all()), None);
    assert_eq!(field_of(&Resources::default(), &v2_all()), None);
}

#[test]
fn each_bad_value_names_its_field() {
    let base = Resources::default();
    let cases: Vec<(Resources, &str)> = vec![
        (
            Resources {
                memory: Some(4 << 20),
                ..base.clone()
            },
            "memory",
        ),
        (
            Resources {
                memory_swap: Some(1 << 30),
                ..base.clone()
            },
            "memory_swap",
        ),
        (
            Resources {
                memory: Some(64 << 20),
                memory_swap: Some(32 << 20),
                ..base.clone()
            },
            "memory_swap",
        ),
        (
            Resources {
                memory_reservation: Some(1024),
                ..base.clone()
            },
            "memory_reservation",
        ),
        (
            Resources {
                memory: Some(64 << 20),
                memory_reservation: Some(128 << 20),
                ..base.clone()
            },
            "memory_reservation",
        ),
        (
            Resources {
                cpus: Some(0.0),
                ..base.clone()
            },
            "cpus",
        ),
        (
            Resources {
                cpus: Some(-1.0),
                ..base.clone()
            },
            "cpus",
        ),
        (
            Resources {
                cpus: Some(2.5),
                ..base.clone()
            },
            "cpus",
        ),
        (
            Resources {
                cpus: Some(f64::NAN),
                ..base.clone()
            },
            "cpus",
        ),
        (
            Resources {
                cpu_shares: Some(1),
                ..base.clone()
            },
            "cpu_shares",
        ),
        (
            Resources {
                cpuset_cpus: Some("0-3".into()),
                ..base.clone()
            },
            "cpuset_cpus",
        ),
        (
            Resources {
                cpuset_cpus: Some("zero".into()),
                ..base.clone()
            },
            "cpuset_cpus",
        ),
        (
            Resources {
                cpuset_mems: Some("1".into()),
                ..base.clone()
            },
            "cpuset_mems",
        ),
        (
            Resources {
                pids: Some(0),
                ..base.clone()
            },
            "pids",
        ),
        (
            Resources {
                pids: Some(-5),
                ..base.clone()
            },
            "pids",
        ),
        (
            Resources {
                io_weight: Some(5),
                ..base.clone()
            },
            "io_weight",
        ),
        (
            Resources {
                io_read_bps: vec![DeviceLimit {
                    major: 8,
                    minor: 0,
                    rate: 1 << 20,
                }],
                ..base.clone()
            },
            "io_read_bps",
        ),
        (
            Resources {
                io_write_iops: vec![DeviceLimit {
                    major: 8,
                    minor: 0,
                    rate: 0,
                }],
                ..base.clone()
            },
            "io_write_iops",
        ),
    ];
    for (r, field) in cases {
        assert_eq!(field_of(&r, &v2_all()), Some(field), "{r:?}");
    }
}

#[test]
fn missing_controller_is_refused() {
    // A v1 host with memory only.
    let layout = Layout::v1(BTreeMap::from([(Controller::Memory, PathBuf::from("/m"))]));
    let io = Resources {
        io_weight: Some(100),
        ..Default::default()
    };
    let err = io.validate_on(&layout, &host(Path::new("/x"))).unwrap_err();
    assert_eq!(err.field, "io_weight");
    assert!(err.message.contains("no io cgroup controller"), "{err}");
    let pids = Resources {
        pids: Some(10),
        ..Default::default()
    };
    assert_eq!(field_of(&pids, &layout), Some("pids"));
}

#[test]
fn v1_swap_needs_swap_accounting() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::v1(BTreeMap::from([(
        Controller::Memory,
        dir.path().to_path_buf(),
    )]));
    let r = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(128 << 20),
        ..Default::default()
    };
    let err = r.validate_on(&layout, &host(dir.path())).unwrap_err();
    assert_eq!(err.field, "memory_swap");
    assert!(err.message.contains("swapaccount"), "{err}");
    std::fs::write(dir.path().join("memory.memsw.limit_in_bytes"), "").unwrap();
    assert_eq!(r.validate_on(&layout, &host(dir.path())), Ok(()));
}

#[test]
fn throttled_device_must_exist() {
    let sys = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sys.path().join("dev/block/254:0")).unwrap();
    let mut r = Resources {
        io_read_bps: vec![DeviceLimit {
            major: 254,
            minor: 0,
            rate: 1 << 20,
        }],
        ..Default::default()
    };
    assert_eq!(r.validate_on(&v2_all(), &host(sys.path())), Ok(()));
    r.io_read_bps[0].minor = 1;
    assert_eq!(
        r.validate_on(&v2_all(), &host(sys.path()))
            .unwrap_err()
            .field,
        "io_read_bps"
    );
}

#[test]
fn host_from_sysfs() {
    let sys = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sys.path().join("devices/system/cpu")).unwrap();
    std::fs::write(sys.path().join("devices/system/cpu/online"), "0-3,6\n").unwrap();
    let h = Host::from_sysfs(sys.path());
    assert_eq!(h.online_cpus, [0, 1, 2, 3, 6].into());
    assert_eq!(h.online_mems, [0].into());
}

#[test]
fn cpu_periods_and_realtime() {
    let v1 = Layout::v1(BTreeMap::from([(Controller::Cpu, PathBuf::from("/c"))]));
    let ok = Resources {
        cpus: Some(0.5),
        cpu_period: Some(10_000),
        cpu_rt_runtime: Some(5_000),
        cpu_rt_period: Some(10_000),
        ..Default::default()
    };
    assert_eq!(field_of(&ok, &v1), None);
    let bad = |r: Resources, layout: &Layout| field_of(&r, layout);
    // Out of the kernel's period range; a quota under 1 ms of its period.
    let period = |p| Resources {
        cpu_period: Some(p),
        ..Default::default()
    };
    assert_eq!(bad(period(999), &v1), Some("cpu_period"));
    assert_eq!(bad(period(1_000_001), &v1), Some("cpu_period"));
    let small = Resources {
        cpus: Some(0.05),
        cpu_period: Some(10_000),
        ..Default::default()
    };
    assert_eq!(bad(small, &v1), Some("cpus"));
    // A realtime runtime above its period; realtime at all on cgroup2.
    let over = Resources {
        cpu_rt_runtime: Some(20_000),
        cpu_rt_period: Some(10_000),
        ..Default::default()
    };
    assert_eq!(bad(over, &v1), Some("cpu_rt_runtime"));
    let rt = Resources {
        cpu_rt_runtime: Some(1000),
        ..Default::default()
    };
    assert_eq!(bad(rt.clone(), &v2_all()), Some("cpu_rt_runtime"));
    let err = rt
        .validate_on(&v2_all(), &host(Path::new("/x")))
        .unwrap_err();
    assert!(err.to_string().contains("v1's"), "{err}");
}

#[test]
fn hugetlb_page_sizes_the_host_has_and_rdma_device_words() {
    let sys = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sys.path().join("kernel/mm/hugepages/hugepages-2048kB")).unwrap();
    std::fs::create_dir_all(sys.path().join("kernel/mm/hugepages/hugepages-1048576kB")).unwrap();
    let layout = v2_all().with_v2_controllers([Controller::Hugetlb, Controller::Rdma].into());
    let check = |r: &Resources| {
        r.validate_on(&layout, &host(sys.path()))
            .map_err(|e| e.to_string())
    };
    let huge = |size: &str| Resources {
        hugetlb: vec![crate::resources::HugetlbLimit {
            page_size: size.into(),
            limit: 1 << 21,
        }],
        ..Default::default()
    };
    assert_eq!(check(&huge("2MB")), Ok(()));
    assert_eq!(check(&huge("1GB")), Ok(()));
    let err = check(&huge("64KB")).unwrap_err();
    assert!(
        err.contains("no such huge pages (it has 2MB, 1GB)"),
        "{err}"
    );
    for bad in ["2mb", "MB", "2MB/../x", "2 MB", ""] {
        assert!(
            check(&huge(bad)).unwrap_err().contains("not a size"),
            "{bad}"
        );
    }
    let rdma = |dev: &str| Resources {
        rdma: [(dev.to_string(), crate::resources::RdmaLimit::default())].into(),
        ..Default::default()
    };
    assert_eq!(check(&rdma("mlx4_0")), Ok(()));
    for bad in ["mlx4_0 hca_handle=1", "a\nb", "", "x=y"] {
        assert!(check(&rdma(bad)).is_err(), "{bad:?}");
    }
    // Without the controller on this host: named as any other missing controller.
    let err = huge("2MB")
        .validate_on(&v2_all(), &host(sys.path()))
        .unwrap_err();
    assert_eq!(err.field, "hugetlb");
}

#[test]
fn unified_keys_need_their_controller_on_cgroup2() {
    let unified = |key: &str| Resources {
        unified: [(key.to_string(), "1".to_string())].into(),
        ..Default::default()
    };
    let v2 = v2_all();
    let check = |r: Resources, layout: &Layout| {
        r.validate_on(layout, &host(Path::new("/x")))
            .map_err(|e| e.to_string())
    };
    assert_eq!(check(unified("memory.high"), &v2), Ok(()));
    assert_eq!(check(unified("cgroup.max.depth"), &v2), Ok(()));
    for (key, why) in [
        ("hugetlb.2MB.max", "not enabled"),
        ("nope.max", "no cgroup2 controller"),
        ("cgroup.procs", "manages this file itself"),
        ("cgroup.subtree_control", "manages this file itself"),
        ("../memory.max", "not the name"),
        ("memory/x.max", "not the name"),
        ("memory", "not the name"),
    ] {
        let err = check(unified(key), &v2).unwrap_err();
        assert!(err.contains(why) && err.contains(key), "{key}: {err}");
    }
    // Hybrid: memory is v1's; no cgroup2 at all: refused as a whole.
    let hybrid = Layout::hybrid(
        BTreeMap::from([(Controller::Memory, PathBuf::from("/m"))]),
        PathBuf::from("/nonexistent"),
    );
    assert!(hybrid.is_err(), "reads cgroup.controllers");
    let hybrid = Layout::from_mountinfo(
        "1 0 0:1 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
         2 0 0:2 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
    )
    .unwrap();
    let err = check(unified("memory.high"), &hybrid).unwrap_err();
    assert!(err.contains("on a v1 hierarchy"), "{err}");
    let v1 = Layout::v1(BTreeMap::from([(Controller::Memory, PathBuf::from("/m"))]));
    let err = check(unified("memory.high"), &v1).unwrap_err();
    assert!(err.contains("no cgroup2 hierarchy"), "{err}");
}
