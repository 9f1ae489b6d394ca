//! The loop over the controllers' rules: which field a missing controller is reported
//! against, which error comes first, and that every field has rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::tests::{field_of, host, v2_all};
use super::*;
use crate::resources::DeviceLimit;

#[test]
fn a_missing_controller_is_reported_against_the_first_field_set() {
    // A v1 host with cpu only: memory_swap is the first memory field this request sets.
    let layout = Layout::v1(BTreeMap::from([(Controller::Cpu, PathBuf::from("/c"))]));
    let swap = Resources {
        memory_swap: Some(-1),
        memory_reservation: Some(64 << 20),
        ..Default::default()
    };
    let err = swap
        .validate_on(&layout, &host(Path::new("/x")))
        .unwrap_err();
    assert_eq!(err.field, "memory_swap");
    assert_eq!(
        err.message,
        "this host has no memory cgroup controller (V1 layout)"
    );
    let throttled = Resources {
        io_write_bps: vec![DeviceLimit {
            major: 8,
            minor: 0,
            rate: 1,
        }],
        ..Default::default()
    };
    assert_eq!(field_of(&throttled, &layout), Some("io_write_bps"));
}

#[test]
fn the_first_bad_field_in_field_order_is_reported() {
    let r = Resources {
        memory: Some(1),
        cpus: Some(0.0),
        pids: Some(0),
        ..Default::default()
    };
    assert_eq!(field_of(&r, &v2_all()), Some("memory"));
    let r = Resources { memory: None, ..r };
    assert_eq!(field_of(&r, &v2_all()), Some("cpus"));
}

/// Every field of `Resources` is some controller's, and one controller's only: a field added
/// without rules would go unchecked.
#[test]
fn every_field_belongs_to_exactly_one_controller() {
    let one = vec![DeviceLimit {
        major: 8,
        minor: 0,
        rate: 1,
    }];
    type Set = fn(&mut Resources, Vec<DeviceLimit>);
    let cases: [(&str, Set); 20] = [
        ("memory", |r, _| r.memory = Some(1)),
        ("memory_swap", |r, _| r.memory_swap = Some(1)),
        ("memory_reservation", |r, _| r.memory_reservation = Some(1)),
        ("cpus", |r, _| r.cpus = Some(1.0)),
        ("cpu_period", |r, _| r.cpu_period = Some(1000)),
        ("cpu_rt_runtime", |r, _| r.cpu_rt_runtime = Some(1)),
        ("cpu_rt_period", |r, _| r.cpu_rt_period = Some(1)),
        ("cpu_shares", |r, _| r.cpu_shares = Some(2)),
        ("cpuset_cpus", |r, _| r.cpuset_cpus = Some("0".into())),
        ("cpuset_mems", |r, _| r.cpuset_mems = Some("0".into())),
        ("pids", |r, _| r.pids = Some(1)),
        ("io_weight", |r, _| r.io_weight = Some(10)),
        ("io_read_bps", |r, l| r.io_read_bps = l),
        ("io_write_bps", |r, l| r.io_write_bps = l),
        ("io_read_iops", |r, l| r.io_read_iops = l),
        ("io_write_iops", |r, l| r.io_write_iops = l),
        ("devices", |r, _| r.devices = Some(Vec::new())),
        ("hugetlb", |r, _| {
            r.hugetlb = vec![crate::resources::HugetlbLimit {
                page_size: "2MB".into(),
                limit: 1,
            }]
        }),
        ("rdma", |r, _| {
            r.rdma = [("mlx4_0".to_string(), Default::default())].into()
        }),
        ("unified", |r, _| {
            r.unified = [("memory.high".to_string(), "1".to_string())].into()
        }),
    ];
    for (field, set) in cases {
        let mut res = Resources::default();
        set(&mut res, one.clone());
        let asked: Vec<_> = RULES.iter().filter_map(|r| r.requested(&res)).collect();
        assert_eq!(asked, [field], "{res:?}");
    }
    assert!(RULES
        .iter()
        .all(|r| r.requested(&Resources::default()).is_none()));
    // Every field, set (those left out of the JSON when unset show up once set).
    let mut all = Resources::default();
    for (_, set) in cases {
        set(&mut all, one.clone());
    }
    let fields = serde_json::to_value(all).unwrap();
    assert_eq!(fields.as_object().unwrap().len(), cases.len(), "{fields}");
}

#[test]
fn sysfs_is_read_only_for_fields_checked_against_it() {
    let memory = Resources {
        memory: Some(64 << 20),
        pids: Some(10),
        ..Default::default()
    };
    assert!(!super::reads_host(&memory));
    let cpus = Resources {
        cpus: Some(1.0),
        ..Default::default()
    };
    assert!(super::reads_host(&cpus));
    let cpuset = Resources {
        cpuset_mems: Some("0".into()),
        ..Default::default()
    };
    assert!(super::reads_host(&cpuset));
}
