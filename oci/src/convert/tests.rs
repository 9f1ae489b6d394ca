//! config.json → Spec against bundles written by `runc spec`, podman, containerd (`ctr run`)
//! and Docker on this kind of host (captured into tests/fixtures), and the refusals.

use std::path::{Path, PathBuf};

use box_cgroup::{DeviceRule, DEFAULT_DEVICE_RULES};
use box_ns::{Kind, Mode};
use box_rootfs::{MountType, ReadOnly, Root};
use box_security::{CapSet, Capability, Resource, SeccompConfig};
use serde_json::{json, Value};

use super::*;

const RUNC: &str = include_str!("../../tests/fixtures/runc-spec.json");
const PODMAN: &str = include_str!("../../tests/fixtures/podman.json");
const CONTAINERD: &str = include_str!("../../tests/fixtures/containerd.json");
const DOCKER: &str = include_str!("../../tests/fixtures/docker.json");

fn bundle(text: &str) -> Bundle {
    Bundle::parse(PathBuf::from("/bundles/b1"), text).unwrap()
}

fn container(text: &str) -> Container {
    convert(&bundle(text), "c1").unwrap()
}

fn caps(names: &[Capability]) -> CapSet {
    names.iter().copied().collect()
}

#[test]
fn runc_spec_template() {
    let c = container(RUNC);
    let s = &c.spec;
    assert_eq!(s.process.args, ["sh"]);
    assert!(s.process.tty, "runc spec asks for a terminal");
    assert_eq!(s.process.cwd, Path::new("/"));
    assert_eq!(s.hostname.as_deref(), Some("runc"));
    assert_eq!(s.rootfs.root, Root::Dir("/bundles/b1/rootfs".into()));
    assert!(s.rootfs.readonly);
    assert!(s.rootfs.console, "a terminal gets /dev/console");
    let three = caps(&[
        Capability::CAP_AUDIT_WRITE,
        Capability::CAP_KILL,
        Capability::CAP_NET_BIND_SERVICE,
    ]);
    let sets = &s.security.capabilities;
    assert_eq!(
        (sets.bounding, sets.effective, sets.permitted),
        (three, three, three)
    );
    assert_eq!(sets.inheritable, CapSet::EMPTY, "runc spec leaves it out");
    assert!(s.security.no_new_privileges);
    assert_eq!(s.security.rlimits.len(), 1);
    assert_eq!(s.security.rlimits[0].resource, Resource::Nofile);
    assert_eq!(s.security.seccomp, SeccompConfig::Unconfined);
    for kind in [Kind::Pid, Kind::Net, Kind::Ipc, Kind::Uts, Kind::Mnt] {
        assert_eq!(*s.namespaces.mode(kind), Mode::New, "{kind:?}");
    }
    assert_eq!(*s.namespaces.mode(Kind::User), Mode::Host);
    let cg = s.cgroup.as_ref().unwrap();
    assert_eq!(cg.path, Path::new("box/oci/c1"));
    // Only "deny everything": the nodes box makes in /dev stay usable, as with runc.
    let rules = cg.resources.devices.clone().unwrap();
    assert_eq!(rules, DEFAULT_DEVICE_RULES[2..].to_vec());
    let kinds: Vec<MountType> = s.rootfs.mounts.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MountType::Proc,
            MountType::Tmpfs,
            MountType::Devpts,
            MountType::Tmpfs,
            MountType::Mqueue,
            MountType::Sysfs,
            MountType::Cgroup2,
        ]
    );
    assert!(s
        .rootfs
        .masked_paths
        .contains(&PathBuf::from("/proc/kcore")));
    assert!(s
        .rootfs
        .readonly_paths
        .contains(&PathBuf::from("/proc/sys")));
}

#[test]
fn podman_bundle() {
    let c = container(PODMAN);
    let s = &c.spec;
    assert_eq!(s.process.args[..2], ["sh", "-c"]);
    assert_eq!(
        s.tunables
            .sysctls
            .get("net.ipv4.ping_group_range")
            .map(String::as_str),
        Some("0 0")
    );
    assert_eq!(s.tunables.umask, Some(0o022));
    let cg = s.cgroup.as_ref().unwrap();
    assert!(cg.path.starts_with("box/podman-t"), "{:?}", cg.path);
    assert_eq!(cg.resources.pids, Some(2048));
    let limit = |r: Resource| {
        s.security
            .rlimits
            .iter()
            .find(|l| l.resource == r)
            .map(|l| (l.soft, l.hard))
    };
    assert_eq!(limit(Resource::Nofile), Some((20000, 20000)));
    assert_eq!(limit(Resource::Nproc), Some((32768, 32768)));
    match &s.security.seccomp {
        SeccompConfig::Inline(_) => {}
        other => panic!("podman's profile is inline, got {other:?}"),
    }
    let cgroup_mount = s
        .rootfs
        .mounts
        .iter()
        .find(|m| m.destination == Path::new("/sys/fs/cgroup"))
        .unwrap();
    assert_eq!(cgroup_mount.kind, MountType::Cgroup2);
    assert_eq!(cgroup_mount.options.readonly, ReadOnly::Yes);
    let shm = s
        .rootfs
        .mounts
        .iter()
        .find(|m| m.destination == Path::new("/dev/shm"))
        .unwrap();
    assert_eq!(shm.kind, MountType::Bind, "podman binds its own shm");
}

#[test]
fn containerd_bundle() {
    let c = container(CONTAINERD);
    let s = &c.spec;
    assert_eq!(s.process.args, ["sleep", "1000"]);
    assert_eq!(s.cgroup.as_ref().unwrap().path, Path::new("box/ctr-t/c2"));
    // A relative root is the bundle's.
    assert_eq!(s.rootfs.root, Root::Dir("/bundles/b1/rootfs".into()));
    assert_eq!(
        s.security.capabilities.bounding.iter().count(),
        14,
        "Docker's 14"
    );
}

#[test]
fn docker_bundle() {
    let c = container(DOCKER);
    let s = &c.spec;
    assert_eq!(s.process.args, ["sleep", "1000"]);
    let cg = s.cgroup.as_ref().unwrap();
    assert!(cg.path.starts_with("box/docker-t"));
    let rules = cg.resources.devices.clone().unwrap();
    let null: DeviceRule = "c 1:3 rwm".parse().unwrap();
    assert!(rules.contains(&null));
    assert!(
        !rules
            .iter()
            .any(|r| r.major == Some(10) && r.minor == Some(229)),
        "/dev/fuse's deny holds: nothing allowed it"
    );
    assert_eq!(cg.resources.cpu_shares, None, "0 means unset");
    assert_eq!(cg.resources.io_weight, None, "0 means unset");
    assert_eq!(s.tunables.oom_score_adj, Some(0));
    let kinds: Vec<&Path> = s
        .rootfs
        .mounts
        .iter()
        .filter(|m| m.kind == MountType::Bind)
        .map(|m| m.destination.as_path())
        .collect();
    assert_eq!(
        kinds,
        [
            Path::new("/etc/resolv.conf"),
            Path::new("/etc/hostname"),
            Path::new("/etc/hosts")
        ]
    );
}

/// `RUNC` with `patch` merged in at `pointer` (a JSON pointer to an object).
fn with(pointer: &str, key: &str, value: Value) -> String {
    let mut doc: Value = serde_json::from_str(RUNC).unwrap();
    doc.pointer_mut(pointer)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.into(), value);
    doc.to_string()
}

fn refusal(text: String) -> String {
    match convert(&bundle(&text), "c1") {
        Ok(_) => "accepted".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn what_box_cannot_honour_is_refused_by_name() {
    let cases = [
        with("/linux", "cgroupsPath", json!("/box/c1")),
        with("/linux", "cgroupsPath", json!("/box/../etc")),
        with("/linux", "intelRdt", json!({"closID": "x"})),
        with("/linux", "resources", json!({"network": {"classID": 1}})),
        with(
            "/linux",
            "resources",
            json!({"devices": [{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}),
        ),
        with(
            "/linux",
            "resources",
            json!({"cpu": {"quota": 50000, "idle": 1}}),
        ),
        with(
            "/linux",
            "resources",
            json!({"memory": {"useHierarchy": false}}),
        ),
        with(
            "/linux",
            "resources",
            json!({"memory": {"checkBeforeUpdate": true}}),
        ),
        with("/linux", "rootfsPropagation", json!("shared")),
        with(
            "/linux",
            "namespaces",
            json!([{"type": "user"}, {"type": "mount"}]),
        ),
        with("/linux", "namespaces", json!([{"type": "pid"}])),
        with("/process", "scheduler", json!({"policy": "SCHED_OTHER"})),
        with(
            "",
            "mounts",
            json!([{"destination": "/x", "type": "nfs,ro", "source": "h:/x"}]),
        ),
        with("", "windows", json!({"layerFolders": []})),
        with(
            "/linux",
            "uidMappings",
            json!([{"containerID": 0, "hostID": 1, "size": 1}]),
        ),
    ];
    let out: Vec<String> = cases.into_iter().map(refusal).collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn accepted_shapes() {
    // Relative cgroup paths go below box/oci; absolute ones are the engine's.
    let rel = container(&with("/linux", "cgroupsPath", json!("pods/c1")));
    assert_eq!(rel.spec.cgroup.unwrap().path, Path::new("box/oci/pods/c1"));
    // systemd's form without --systemd-cgroup is a name, as runc's and crun's cgroupfs take it.
    let slice = container(&with("/linux", "cgroupsPath", json!("system.slice:box:c1")));
    assert_eq!(
        slice.spec.cgroup.unwrap().path,
        Path::new("box/oci/system.slice:box:c1")
    );
    let joined = container(&with(
        "/linux",
        "namespaces",
        json!([{"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}]),
    ));
    assert_eq!(
        *joined.spec.namespaces.mode(Kind::Net),
        Mode::Join("/proc/1/ns/net".into())
    );
    assert_eq!(*joined.spec.namespaces.mode(Kind::Pid), Mode::Host);
    let mut doc: Value = serde_json::from_str(&with(
        "/linux",
        "uidMappings",
        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
    ))
    .unwrap();
    doc["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    doc["linux"]["namespaces"] = json!([{"type": "user"}, {"type": "mount"}]);
    let user = container(&doc.to_string());
    let maps = user.spec.user_maps.unwrap();
    assert_eq!(
        (maps.uid[0].inside, maps.uid[0].outside, maps.uid[0].count),
        (0, 100000, 65536)
    );
}

#[test]
fn cpu_periods_and_realtime_map_onto_resources() {
    let res = |cpu: Value| {
        let c = container(&with("/linux", "resources", json!({ "cpu": cpu })));
        c.spec.cgroup.unwrap().resources
    };
    let r = res(json!({"quota": 50000, "period": 250000}));
    assert_eq!((r.cpus, r.cpu_period), (Some(0.2), Some(250_000)));
    let r = res(json!({"quota": 50000}));
    assert_eq!((r.cpus, r.cpu_period), (Some(0.5), None));
    let r = res(json!({"period": 50000}));
    assert_eq!((r.cpus, r.cpu_period), (None, Some(50_000)));
    let r = res(json!({"realtimeRuntime": 950000, "realtimePeriod": 1000000}));
    assert_eq!(
        (r.cpu_rt_runtime, r.cpu_rt_period),
        (Some(950_000), Some(1_000_000))
    );
}

#[test]
fn hugetlb_rdma_and_unified_map_onto_resources() {
    let c = container(&with(
        "/linux",
        "resources",
        json!({
            "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}, {"pageSize": "1GB", "limit": 0}],
            "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
            "unified": {"memory.high": "max", "pids.max": "20"}
        }),
    ));
    let r = c.spec.cgroup.unwrap().resources;
    let huge: Vec<_> = r
        .hugetlb
        .iter()
        .map(|l| (l.page_size.as_str(), l.limit))
        .collect();
    assert_eq!(huge, [("2MB", 4 << 20), ("1GB", 0)]);
    assert_eq!(r.rdma["mlx5_1"].hca_handles, Some(3));
    assert_eq!(r.rdma["mlx5_1"].hca_objects, Some(10000));
    assert_eq!(r.unified["memory.high"], "max");
    assert_eq!(r.unified["pids.max"], "20");
}

#[test]
fn mounts_of_any_filesystem_type_keep_their_source_and_options() {
    let c = container(&with(
        "",
        "mounts",
        json!([
            {"destination": "/o", "type": "overlay", "source": "overlay",
             "options": ["ro", "lowerdir=/a:/b", "rslave"]},
            {"destination": "/r", "type": "ramfs", "source": "ramfs", "options": ["rro", "nosuid"]}
        ]),
    ));
    let m = &c.spec.rootfs.mounts;
    assert_eq!(m[0].kind.name(), "overlay");
    assert_eq!(
        m[0].source.as_deref(),
        Some(Path::new("overlay")),
        "not made a bundle path"
    );
    assert_eq!(m[0].options.data, ["lowerdir=/a:/b"]);
    assert_eq!(m[0].option_words(), ["ro", "rslave", "lowerdir=/a:/b"]);
    assert_eq!(m[1].kind.name(), "ramfs");
    assert_eq!(m[1].option_words(), ["rro", "nosuid"]);
}

#[test]
fn create_container_hooks_go_to_the_containers_init() {
    let c = container(&with(
        "",
        "hooks",
        json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "true"], "env": ["A=b"], "timeout": 5}]}),
    ));
    let hooks = &c.spec.tunables.create_container.hooks;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].path, Path::new("/bin/sh"));
    assert_eq!(hooks[0].args, ["sh", "-c", "true"]);
    assert_eq!(hooks[0].env, ["A=b"]);
    assert_eq!(hooks[0].timeout, Some(5));
}
