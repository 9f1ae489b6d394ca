use super::*;
use Controller::*;

/// Fedora / Ubuntu 22.04+ with systemd: one cgroup2 mount, nsdelegate.
const PURE_V2: &str = "\
22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
25 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
26 24 0:24 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:5 - pstore pstore rw
";

/// CentOS 7: v1 only, co-mounted cpu,cpuacct and net_cls,net_prio, name=systemd.
const PURE_V1: &str = "\
18 61 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
29 24 0:25 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
30 24 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
31 24 0:27 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,blkio
32 24 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset
33 24 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
34 24 0:30 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer
35 24 0:31 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,devices
36 24 0:32 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,hugetlb
37 24 0:33 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,perf_event
";

/// This machine (box's CI): hybrid, cpu and cpuacct on separate hierarchies.
const THIS_MACHINE: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

/// Ubuntu 20.04: systemd hybrid with co-mounted v1 controllers and a bind mount of a subtree.
const UBUNTU_HYBRID: &str = "\
35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 24 0:31 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
40 24 0:35 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpu,cpuacct
41 24 0:36 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,memory
42 24 0:37 / /sys/fs/cgroup/rdma rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,rdma
99 22 0:36 /docker /mnt/memory\\040sub rw,relatime shared:18 - cgroup cgroup rw,memory
";

#[test]
fn pure_v2_systemd_host() {
    let l = Layout::from_mountinfo(PURE_V2).unwrap();
    assert_eq!(l.mode(), Mode::V2);
    assert_eq!(l.v2_root(), Some(Path::new("/sys/fs/cgroup")));
    assert!(l.v1_mounts().is_empty());
    // Controllers come from cgroup.controllers, not mountinfo.
    assert!(!l.has(Memory));
    let l = l.with_v2_controllers([Cpu, Memory, Pids, Io, Cpuset].into());
    assert_eq!(
        l.location(Memory),
        Some(Location::V2(Path::new("/sys/fs/cgroup")))
    );
    assert_eq!(
        l.location(Cpuacct),
        Some(Location::V2(Path::new("/sys/fs/cgroup")))
    );
    assert!(!l.has(Freezer));
}

#[test]
fn pure_v1_with_comounts() {
    let l = Layout::from_mountinfo(PURE_V1).unwrap();
    assert_eq!(l.mode(), Mode::V1);
    assert_eq!(l.v2_root(), None);
    let cpu = Path::new("/sys/fs/cgroup/cpu,cpuacct");
    assert_eq!(l.location(Cpu), Some(Location::V1(cpu)));
    assert_eq!(l.location(Cpuacct), Some(Location::V1(cpu)));
    assert_eq!(
        l.location(Io),
        Some(Location::V1(Path::new("/sys/fs/cgroup/blkio")))
    );
    let h = l.v1_hierarchies();
    // name=systemd carries no controller and is not ours to use.
    assert_eq!(h.len(), 10);
    assert!(h.contains(&(cpu, vec![Cpu, Cpuacct])));
    assert!(h.contains(&(
        Path::new("/sys/fs/cgroup/net_cls,net_prio"),
        vec![NetCls, NetPrio]
    )));
    assert!(!l.has(Rdma));
}

#[test]
fn hybrid_this_machine() {
    let l = Layout::from_mountinfo(THIS_MACHINE).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
    assert_eq!(l.v2_root(), Some(Path::new("/sys/fs/cgroup/unified")));
    assert_eq!(l.v1_hierarchies().len(), 8);
    assert_eq!(
        l.location(Cpu),
        Some(Location::V1(Path::new("/sys/fs/cgroup/cpu")))
    );
    assert_eq!(
        l.location(Cpuacct),
        Some(Location::V1(Path::new("/sys/fs/cgroup/cpuacct")))
    );
    // The kernel lists hugetlb in the unified root here; memory can never be on both.
    let l = l.with_v2_controllers([Hugetlb, Memory].into());
    assert_eq!(l.v2_controllers(), &[Hugetlb].into());
    assert_eq!(
        l.location(Memory),
        Some(Location::V1(Path::new("/sys/fs/cgroup/memory")))
    );
}

#[test]
fn hybrid_prefers_whole_hierarchy_mounts() {
    let l = Layout::from_mountinfo(UBUNTU_HYBRID).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
    assert_eq!(
        l.v1_mounts()[&Memory],
        PathBuf::from("/sys/fs/cgroup/memory")
    );
    assert_eq!(l.v1_mounts()[&Rdma], PathBuf::from("/sys/fs/cgroup/rdma"));
    assert!(!l.has(Pids));
}

#[test]
fn no_cgroups_is_an_error() {
    let err = Layout::from_mountinfo("23 22 0:21 / /proc rw - proc proc rw\n").unwrap_err();
    assert!(matches!(err, Error::NoCgroupMounts));
}

#[test]
fn constructors_read_cgroup_controllers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids\n",
    )
    .unwrap();
    let l = Layout::v2(dir.path().to_path_buf()).unwrap();
    assert_eq!(l.mode(), Mode::V2);
    assert_eq!(
        l.v2_controllers(),
        &[Cpuset, Cpu, Io, Memory, Hugetlb, Pids].into()
    );

    let v1 = BTreeMap::from([(Memory, PathBuf::from("/m"))]);
    let l = Layout::hybrid(v1.clone(), dir.path().to_path_buf()).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
    assert_eq!(l.location(Memory), Some(Location::V1(Path::new("/m"))));
    assert_eq!(l.location(Pids), Some(Location::V2(dir.path())));
    assert_eq!(Layout::v1(v1).mode(), Mode::V1);
}

#[test]
fn detect_on_this_host() {
    // Whatever the host's layout, detection must find it: the tests run where box runs, on a
    // host with cgroups mounted (a host without them fails here, as box would).
    let l = Layout::detect().unwrap();
    assert!(l.v2_root().is_some() || !l.v1_mounts().is_empty());
}
