//! Whole-cgroup lifecycles on fake cgroupfs trees: pure v2 (with controllers, which this
//! machine's cgroup2 lacks), pure v1 and hybrid.

use std::path::{Path, PathBuf};

use super::*;
use crate::resources::DeviceLimit;
use crate::testing::{cat, files, v1_tree, v2_tree};

fn limits() -> Resources {
    Resources {
        memory: Some(64 << 20),
        cpus: Some(1.5),
        cpu_shares: Some(512),
        pids: Some(32),
        ..Default::default()
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.contains('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn v2_create_enables_controllers_and_writes_limits() {
    let (root, layout, _g) = v2_tree();
    let mut res = limits();
    res.io_read_bps = vec![DeviceLimit {
        major: 8,
        minor: 0,
        rate: 1 << 20,
    }];
    let cg = Cgroup::create(&layout, Path::new("box/web"), &res).unwrap();
    let r = root.path();
    // Only the controllers needed (memory and pids always), in root and in box/.
    assert_eq!(cat(r, "cgroup.subtree_control"), "+cpu +memory +pids +io");
    assert_eq!(
        cat(&r.join("box"), "cgroup.subtree_control"),
        "+cpu +memory +pids +io"
    );
    let leaf = r.join("box/web");
    assert_eq!(
        cat(&leaf, "cgroup.subtree_control"),
        "",
        "the leaf enables nothing"
    );
    assert_eq!(cat(&leaf, "memory.max"), "67108864");
    assert_eq!(
        cat(&leaf, "memory.swap.max"),
        "67108864",
        "Docker: swap = memory by default"
    );
    assert_eq!(cat(&leaf, "cpu.max"), "150000 100000");
    assert_eq!(cat(&leaf, "cpu.weight"), "59");
    assert_eq!(cat(&leaf, "pids.max"), "32");
    assert_eq!(cat(&leaf, "io.max"), "8:0 rbps=1048576");
    assert!(cg.v2_fd().is_some());
    assert_eq!(
        cg.paths(),
        vec![CgroupDir {
            hierarchy: Hierarchy::Unified,
            dir: leaf.clone()
        }]
    );
    assert_eq!(
        cg.read_limits().unwrap().mismatches(&res),
        Vec::<&str>::new()
    );
    assert_eq!(cg.dir_of(Controller::Memory), Some(leaf.as_path()));

    cg.add_process(Pid::from_raw(4242)).unwrap();
    assert_eq!(cat(&leaf, "cgroup.procs"), "4242");
    std::fs::write(leaf.join("cgroup.procs"), "").unwrap();
    assert!(!cg.oom_killed().unwrap());
    files(&leaf, &[("memory.events", "oom 1\noom_kill 1\n")]);
    assert!(cg.oom_killed().unwrap());

    cg.destroy().unwrap();
    assert_eq!(cat(r, "cgroup.subtree_control"), "+cpu +memory +pids +io");
    assert!(entries(r).is_empty(), "left behind: {:?}", entries(r));
}

#[test]
fn v2_controllers_already_enabled_are_not_rewritten() {
    let (root, layout, _g) = v2_tree();
    files(
        root.path(),
        &[("cgroup.subtree_control", "cpu memory pids\n")],
    );
    let cg = Cgroup::create(&layout, Path::new("box/a"), &Resources::default()).unwrap();
    assert_eq!(
        cat(root.path(), "cgroup.subtree_control"),
        "cpu memory pids\n"
    );
    assert_eq!(
        cat(&root.path().join("box"), "cgroup.subtree_control"),
        "+memory +pids"
    );
    cg.destroy().unwrap();
}

#[test]
fn siblings_keep_the_shared_parent() {
    let (root, layout, _g) = v2_tree();
    let a = Cgroup::create(&layout, Path::new("box/a"), &Resources::default()).unwrap();
    let b = Cgroup::create(&layout, Path::new("/box/b"), &Resources::default()).unwrap();
    a.destroy().unwrap();
    assert_eq!(entries(&root.path().join("box")), vec!["b"]);
    a.destroy().unwrap(); // again: nothing left to do
    b.destroy().unwrap();
    assert!(entries(root.path()).is_empty());
}

#[test]
fn existing_cgroup_is_refused_and_kept() {
    let (root, layout, _g) = v2_tree();
    let a = Cgroup::create(&layout, Path::new("box/a"), &Resources::default()).unwrap();
    let err = Cgroup::create(&layout, Path::new("box/a"), &Resources::default()).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert!(root.path().join("box/a").is_dir());
    let opened = Cgroup::open(&layout, Path::new("box/a")).unwrap();
    assert_eq!(opened.paths(), a.paths());
    opened.destroy().unwrap();
    assert!(matches!(
        Cgroup::open(&layout, Path::new("box/a")),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn v1_create_fills_cpusets_and_joins_every_hierarchy() {
    let (top, layout, _g) = v1_tree(false);
    let t = top.path();
    let mut res = limits();
    res.cpuset_cpus = Some("1".into());
    let cg = Cgroup::create(&layout, Path::new("box/web"), &res).unwrap();
    assert!(cg.v2_fd().is_none());
    // box/ copies the root's cpuset; the container gets its own cpus and box/'s mems.
    assert_eq!(cat(&t.join("cpuset/box"), "cpuset.cpus"), "0-1");
    assert_eq!(cat(&t.join("cpuset/box/web"), "cpuset.cpus"), "1");
    assert_eq!(cat(&t.join("cpuset/box/web"), "cpuset.mems"), "0");
    assert_eq!(
        cat(&t.join("memory/box/web"), "memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(
        cat(&t.join("memory/box/web"), "memory.memsw.limit_in_bytes"),
        "134217728"
    );
    assert_eq!(
        cat(&t.join("cpu,cpuacct/box/web"), "cpu.cfs_quota_us"),
        "150000"
    );
    assert_eq!(cat(&t.join("cpu,cpuacct/box/web"), "cpu.shares"), "512");
    assert_eq!(cat(&t.join("pids/box/web"), "pids.max"), "32");
    assert_eq!(cg.paths().len(), 5);
    assert!(cg.read_limits().unwrap().mismatches(&res).is_empty());

    cg.add_process(Pid::from_raw(77)).unwrap();
    for m in ["memory", "cpu,cpuacct", "cpuset", "pids", "freezer"] {
        assert_eq!(cat(&t.join(m).join("box/web"), "cgroup.procs"), "77", "{m}");
        std::fs::write(t.join(m).join("box/web/cgroup.procs"), "").unwrap();
    }
    cg.destroy().unwrap();
    for m in ["memory", "cpu,cpuacct", "cpuset", "pids", "freezer"] {
        assert!(!t.join(m).join("box").exists(), "{m}/box left behind");
    }
}

#[test]
fn hybrid_limits_go_to_v1_but_a_unified_cgroup_exists() {
    let (top, layout, _g) = v1_tree(true);
    let t = top.path();
    assert_eq!(layout.mode(), crate::Mode::Hybrid);
    let cg = Cgroup::create(&layout, Path::new("box/h"), &limits()).unwrap();
    assert!(cg.v2_fd().is_some());
    assert!(t.join("unified/box/h").is_dir());
    // No controller on the unified side to enable.
    assert_eq!(cat(&t.join("unified"), "cgroup.subtree_control"), "");
    assert_eq!(
        cat(&t.join("memory/box/h"), "memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(
        cg.dir_of(Controller::Pids),
        Some(t.join("pids/box/h").as_path())
    );
    cg.add_process(Pid::from_raw(5)).unwrap();
    assert_eq!(cat(&t.join("unified/box/h"), "cgroup.procs"), "5");
    std::fs::write(t.join("unified/box/h/cgroup.procs"), "").unwrap();
    for m in ["memory", "cpu,cpuacct", "cpuset", "pids", "freezer"] {
        std::fs::write(t.join(m).join("box/h/cgroup.procs"), "").unwrap();
    }
    cg.destroy().unwrap();
    assert!(!t.join("unified/box").exists());
}

#[test]
fn failed_create_leaves_nothing() {
    let (top, layout, _g) = v1_tree(false);
    // The blkio controller is missing: io limits cannot be applied.
    let res = Resources {
        io_weight: Some(100),
        ..Default::default()
    };
    let err = Cgroup::create(&layout, Path::new("box/x"), &res).unwrap_err();
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
    let left: Vec<PathBuf> = ["memory", "cpuset", "pids"]
        .iter()
        .map(|m| top.path().join(m).join("box"))
        .filter(|p| p.exists())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn self_join_writes_0_to_each_v1_tasks_file_and_leaves_unified_to_box() {
    let (top, layout, _g) = v1_tree(true);
    let t = top.path();
    let cg = Cgroup::create(&layout, Path::new("box/j"), &Resources::default()).unwrap();
    cg.self_join().unwrap().join().unwrap();
    for m in ["memory", "cpu,cpuacct", "cpuset", "pids", "freezer"] {
        assert_eq!(cat(&t.join(m).join("box/j"), "tasks"), "0", "{m}");
        assert_eq!(cat(&t.join(m).join("box/j"), "cgroup.procs"), "", "{m}");
    }
    assert_eq!(cat(&t.join("unified/box/j"), "cgroup.procs"), "");
    cg.add_process_v2(Pid::from_raw(9)).unwrap();
    assert_eq!(cat(&t.join("unified/box/j"), "cgroup.procs"), "9");
    std::fs::write(t.join("unified/box/j/cgroup.procs"), "").unwrap();
    cg.destroy().unwrap();
}

#[test]
fn on_pure_v2_there_is_nothing_to_join_by_itself() {
    let (root, layout, _g) = v2_tree();
    let cg = Cgroup::create(&layout, Path::new("box/j"), &Resources::default()).unwrap();
    // No v1 `tasks` file is opened: clone3(CLONE_INTO_CGROUP) places the child.
    cg.self_join().unwrap().join().unwrap();
    assert_eq!(cat(&root.path().join("box/j"), "cgroup.procs"), "");
    cg.add_process_v2(Pid::from_raw(9)).unwrap();
    assert_eq!(cat(&root.path().join("box/j"), "cgroup.procs"), "9");
    std::fs::write(root.path().join("box/j/cgroup.procs"), "").unwrap();
    cg.destroy().unwrap();
}

#[test]
fn v2_hugetlb_and_unified_files_enable_their_controllers() {
    let (root, layout, _g) = v2_tree();
    let res = Resources {
        hugetlb: vec![crate::resources::HugetlbLimit {
            page_size: "2MB".into(),
            limit: 4 << 20,
        }],
        unified: [("memory.high".to_string(), "50000000".to_string())].into(),
        ..Default::default()
    };
    let cg = Cgroup::create(&layout, Path::new("box/huge"), &res).unwrap();
    let r = root.path();
    // hugetlb for its limit, memory (always, and for memory.high) enabled down to the leaf.
    assert_eq!(cat(r, "cgroup.subtree_control"), "+memory +pids +hugetlb");
    let leaf = r.join("box/huge");
    assert_eq!(cat(&leaf, "hugetlb.2MB.max"), "4194304");
    assert_eq!(cat(&leaf, "memory.high"), "50000000");
    cg.destroy().unwrap();
}

#[test]
fn hybrid_hugetlb_goes_to_cgroup2_where_the_kernel_put_it() {
    let (top, layout, _g) = v1_tree(true);
    let res = Resources {
        hugetlb: vec![crate::resources::HugetlbLimit {
            page_size: "2MB".into(),
            limit: 2 << 20,
        }],
        ..Default::default()
    };
    let leaf = top.path().join("unified/box/h");
    // The fake tree's new cgroup2 directories have no hugetlb file until the kernel would
    // make one: here, the test, before the limit is written.
    let populate = leaf.clone();
    crate::testing::after_mkdir(move |dir| {
        if dir == populate {
            files(dir, &[("hugetlb.2MB.max", "max\n")]);
        }
    });
    let cg = Cgroup::create(&layout, Path::new("box/h"), &res).unwrap();
    assert_eq!(
        cat(&top.path().join("unified"), "cgroup.subtree_control"),
        "+hugetlb"
    );
    assert_eq!(cat(&leaf, "hugetlb.2MB.max"), "2097152");
    cg.destroy().unwrap();
}
