use super::*;

fn h(name: &str, controllers: &[&str]) -> CgroupHierarchy {
    CgroupHierarchy {
        name: name.into(),
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn co_mounted_controllers_get_a_link_each_to_their_directory() {
    let both = h("cpu,cpuacct", &["cpu", "cpuacct"]);
    assert_eq!(both.links().collect::<Vec<_>>(), ["cpu", "cpuacct"]);
    assert_eq!(h("memory", &["memory"]).links().count(), 0);
    assert_eq!(h("unified", &[]).links().count(), 0);
    // A hierarchy the host mounted under one controller's name: only the other gets a link.
    let named = h("net_cls", &["net_cls", "net_prio"]);
    assert_eq!(named.links().collect::<Vec<_>>(), ["net_prio"]);
}

#[test]
fn names_that_are_not_one_plain_component_or_clash_are_refused() {
    let ok = CgroupFs::Hierarchies(vec![
        h("cpu,cpuacct", &["cpu", "cpuacct"]),
        h("memory", &["memory"]),
        h("unified", &[]),
    ]);
    check(&ok).unwrap();
    check(&CgroupFs::Unified).unwrap();
    for bad in [
        vec![h("..", &["memory"])],
        vec![h("a/b", &["memory"])],
        vec![h("", &["memory"])],
        vec![h("memory", &["mem,ory"])],
        vec![h("memory", &["memory"]), h("memory", &["pids"])],
        // The link `cpu` would take the name of another hierarchy.
        vec![h("cpu", &["cpu"]), h("cpu,cpuacct", &["cpu", "cpuacct"])],
    ] {
        let err = check(&CgroupFs::Hierarchies(bad.clone())).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad:?}: {err}");
    }
}

#[test]
fn serde_shape() {
    let fs = CgroupFs::Hierarchies(vec![h("memory", &["memory"])]);
    let text = serde_json::to_string(&fs).unwrap();
    assert_eq!(
        text,
        r#"{"hierarchies":[{"name":"memory","controllers":["memory"]}]}"#
    );
    assert_eq!(serde_json::from_str::<CgroupFs>(&text).unwrap(), fs);
    assert_eq!(
        serde_json::to_string(&CgroupFs::Unified).unwrap(),
        r#""unified""#
    );
}

/// The whole root built with each API (the new mount API, and `mount(2)` with a remount as on
/// kernels before 5.2): cgroup2 alone, then a tmpfs holding a hierarchy, all read-only.
#[test]
fn mounted_read_only_through_either_api() {
    use crate::testutil::{in_mount_ns, pretend_old_kernel};
    use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, TMPFS_MAGIC};
    use nix::sys::statvfs::{statvfs, FsFlags};
    let check = |path: &str, magic| -> Result<(), String> {
        let fs = statfs(path).map_err(|e| format!("statfs {path}: {e}"))?;
        let flags = statvfs(path).map_err(|e| format!("statvfs {path}: {e}"))?;
        if fs.filesystem_type() != magic || !flags.flags().contains(FsFlags::ST_RDONLY) {
            return Err(format!(
                "{path}: {:?}, {:?}",
                fs.filesystem_type(),
                flags.flags()
            ));
        }
        Ok(())
    };
    for old in [false, true] {
        for fs in [
            CgroupFs::Unified,
            CgroupFs::Hierarchies(vec![h("unified", &[])]),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let cfg = crate::RootfsConfig {
                root: crate::Root::Dir(tmp.path().to_path_buf()),
                cgroupfs: Some(fs.clone()),
                ..Default::default()
            };
            in_mount_ns(|| {
                if old {
                    pretend_old_kernel();
                }
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
                    .map_err(|e| e.to_string())?;
                crate::setup(&cfg).map_err(|e| format!("old = {old}: {e}"))?;
                match fs {
                    CgroupFs::Unified => check("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC),
                    _ => {
                        check("/sys/fs/cgroup", TMPFS_MAGIC)?;
                        check("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)
                    }
                }
            });
        }
    }
}

/// Binds in a view, on a kernel with `open_tree` but not `mount_setattr` (5.2 to 5.11): each
/// mount is made read-only, nosuid, nodev and noexec on its own, by a remount.
#[test]
fn binds_are_locked_one_by_one_without_mount_setattr() {
    use crate::testutil::{in_mount_ns, pretend_old_kernel};
    use nix::sys::statvfs::{statvfs, FsFlags};
    let unified = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split(' ').nth(4).map(String::from))?
        })
        .expect("a cgroup2 mount");
    let sys = tempfile::tempdir().unwrap();
    in_mount_ns(|| {
        let fs = CgroupFs::Hierarchies(vec![h("unified", &[])]);
        let dir = std::fs::File::open(&unified).map_err(|e| e.to_string())?;
        let bind = bind_of_directory(dir.as_fd(), unified.as_ref()).map_err(|e| e.to_string())?;
        let sys_fd = std::fs::File::open(sys.path()).map_err(|e| e.to_string())?;
        pretend_old_kernel();
        let view = Some(CgroupView::Binds(vec![bind]));
        make(sys_fd.as_fd(), &fs, view, "/proc").map_err(|e| e.to_string())?;
        let locked =
            FsFlags::ST_RDONLY | FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_NOEXEC;
        for path in ["fs/cgroup", "fs/cgroup/unified"] {
            let path = sys.path().join(path);
            let flags = statvfs(&path).map_err(|e| e.to_string())?.flags();
            if !flags.contains(locked) {
                return Err(format!("{}: {flags:?}", path.display()));
            }
        }
        Ok(())
    });
}
