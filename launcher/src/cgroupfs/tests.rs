use super::*;

fn layout(mountinfo: &str) -> Layout {
    Layout::from_mountinfo(mountinfo).unwrap()
}

fn h(name: &str, controllers: &[&str]) -> CgroupHierarchy {
    CgroupHierarchy {
        name: name.into(),
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
    }
}

/// Most hosts: systemd's pure cgroup2 at /sys/fs/cgroup.
const PURE_V2: &str = "\
22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

/// This project's machine: v1 controllers one per hierarchy, systemd's named hierarchy and a
/// controller-less cgroup2 at `unified`.
const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// An older v1 host with co-mounted controllers (and systemd's links, not in mountinfo).
const V1_COMOUNTED: &str = "\
31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,net_cls,net_prio
35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
";

#[test]
fn a_pure_v2_host_mounts_cgroup2() {
    assert_eq!(for_layout(&layout(PURE_V2)), CgroupFs::Unified);
}

#[test]
fn a_hybrid_host_gets_each_controller_hierarchy_and_unified_but_no_named_one() {
    assert_eq!(
        for_layout(&layout(HYBRID)),
        CgroupFs::Hierarchies(vec![
            h("cpu", &["cpu"]),
            h("cpuacct", &["cpuacct"]),
            h("memory", &["memory"]),
            h("pids", &["pids"]),
            h("unified", &[]),
        ])
    );
}

#[test]
fn co_mounted_controllers_keep_their_host_directory() {
    let CgroupFs::Hierarchies(list) = for_layout(&layout(V1_COMOUNTED)) else {
        panic!("a v1 host gets hierarchies");
    };
    assert!(
        list.contains(&h("cpu,cpuacct", &["cpu", "cpuacct"])),
        "{list:?}"
    );
    assert!(
        list.contains(&h("net_cls,net_prio", &["net_cls", "net_prio"])),
        "{list:?}"
    );
    assert_eq!(list.len(), 3, "{list:?}");
}

#[test]
fn only_a_container_with_its_own_cgroup_namespace_gets_it() {
    let mut config = box_rootfs::RootfsConfig {
        cgroupfs: Some(CgroupFs::Detect),
        ..Default::default()
    };
    let mut shared = config.clone();
    resolve(&mut config, Some(&layout(PURE_V2)), true);
    assert_eq!(config.cgroupfs, Some(CgroupFs::Unified));
    resolve(&mut shared, Some(&layout(PURE_V2)), false);
    assert_eq!(shared.cgroupfs, None);
    // What a front end gave already is kept.
    let mut given = box_rootfs::RootfsConfig {
        cgroupfs: Some(CgroupFs::Unified),
        ..Default::default()
    };
    resolve(&mut given, Some(&layout(HYBRID)), true);
    assert_eq!(given.cgroupfs, Some(CgroupFs::Unified));
}
