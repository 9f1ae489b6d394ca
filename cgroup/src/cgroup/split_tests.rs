//! A hybrid host's cgroup made in two parts: the unified directory before the clone, the v1
//! hierarchies after it ([`Prepared::create_unified`], [`Prepared::complete_v1`]).

use std::os::fd::OwnedFd;
use std::path::Path;

use super::*;
use crate::testing::{cat, v1_tree};

const V1: [&str; 5] = ["memory", "cpu,cpuacct", "cpuset", "pids", "freezer"];

fn limits() -> Resources {
    Resources {
        memory: Some(64 << 20),
        pids: Some(32),
        ..Default::default()
    }
}

#[test]
fn the_unified_directory_comes_first_and_the_v1_part_with_its_limits_later() {
    let (top, layout, _g) = v1_tree(true);
    let t = top.path();
    let prepared = prepare_on(&layout, Path::new("box/s"), &limits()).unwrap();
    assert!(prepared.splits());
    let cg = prepared.create_unified().unwrap();
    assert!(cg.v2_fd().is_some());
    assert!(t.join("unified/box/s").is_dir());
    for m in V1 {
        assert!(!t.join(m).join("box/s").exists(), "{m} made too early");
    }
    assert_eq!(cg.paths().len(), 1);
    assert!(cg.self_join().unwrap().fds().is_empty());

    let join = prepared.complete_v1(&cg).unwrap();
    assert_eq!(cg.paths().len(), 6);
    assert_eq!(
        cat(&t.join("memory/box/s"), "memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(cat(&t.join("pids/box/s"), "pids.max"), "32");
    assert!(cg.read_limits().unwrap().mismatches(&limits()).is_empty());

    // Another process joins with the fds alone, paired again with their paths.
    let fds: Vec<OwnedFd> = join
        .fds()
        .iter()
        .map(|fd| fd.try_clone_to_owned().unwrap())
        .collect();
    assert_eq!(fds.len(), V1.len());
    let mut short = fds
        .iter()
        .map(|fd| fd.try_clone().unwrap())
        .collect::<Vec<_>>();
    short.pop();
    assert!(
        prepared.self_join_of(short).is_err(),
        "a missing fd is refused"
    );
    prepared.self_join_of(fds).unwrap().join().unwrap();
    for m in V1 {
        assert_eq!(cat(&t.join(m).join("box/s"), "tasks"), "0", "{m}");
    }
    cg.destroy().unwrap();
    for m in V1.iter().chain(&["unified"]) {
        assert!(!t.join(m).join("box").exists(), "{m}/box left behind");
    }
}

#[test]
fn a_sweep_between_the_parts_leaves_the_unified_directory_alone() {
    let (top, layout, _g) = v1_tree(true);
    let prepared = prepare_on(&layout, Path::new("box/s"), &limits()).unwrap();
    let cg = prepared.create_unified().unwrap();
    let swept = sweep_orphans(&layout, Path::new("box"));
    assert!(
        swept.removed.is_empty() && swept.failed.is_empty(),
        "{swept:?}"
    );
    assert!(top.path().join("unified/box/s").is_dir());
    prepared.complete_v1(&cg).unwrap();
    cg.destroy().unwrap();
}

#[test]
fn the_v1_part_removes_an_orphan_of_its_name_on_a_middle_hierarchy() {
    let (top, layout, _g) = v1_tree(true);
    let t = top.path();
    // A dead creator's directory on one v1 hierarchy, which no sweep looks at.
    std::fs::create_dir_all(t.join("pids/box/s")).unwrap();
    let prepared = prepare_on(&layout, Path::new("box/s"), &limits()).unwrap();
    let cg = prepared.create_unified().unwrap();
    prepared.complete_v1(&cg).unwrap();
    assert_eq!(cat(&t.join("pids/box/s"), "pids.max"), "32");
    cg.destroy().unwrap();
}

#[test]
fn a_failed_v1_part_removes_what_it_made_and_leaves_the_unified_directory() {
    let (top, layout, _g) = v1_tree(true);
    let t = top.path();
    let prepared = prepare_on(&layout, Path::new("box/s"), &limits()).unwrap();
    let cg = prepared.create_unified().unwrap();
    // Another live cgroup's directory of the same name on one v1 hierarchy: held, so not an
    // orphan.
    std::fs::create_dir_all(t.join("pids/box/s")).unwrap();
    let held = crate::cgroup::lock::try_exclusive(&crate::testing::dir(&t.join("pids/box/s")));
    assert!(matches!(held, Ok(lock::Attempt::Got(_))));
    let err = prepared.complete_v1(&cg).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert_eq!(cg.paths().len(), 1, "no v1 directory is the cgroup's");
    for m in V1.iter().filter(|m| **m != "pids") {
        assert!(!t.join(m).join("box/s").exists(), "{m} left behind");
    }
    assert!(t.join("unified/box/s").is_dir(), "the caller removes it");
    cg.destroy().unwrap();
    drop(held);
}
