//! A mount namespace where `/sys/fs/cgroup` was mounted over (a tmpfs, the v1 hierarchies
//! bound back, the cgroup2 mount hidden underneath but still listed in mountinfo): the layout
//! must not use the hidden cgroup2, and cgroups must still be made. Root only (it mounts and
//! makes cgroups), in a child process with its own private mount namespace, so that nothing
//! of it reaches the host.

mod common;

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use box_cgroup::{Cgroup, Error, Layout, Mode, Resources};
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode as FileMode;

const CGROUP_DIR: &str = "/sys/fs/cgroup";

#[test]
fn a_hidden_cgroup2_mount_is_not_used() {
    // In the child: the cgroup path to make.
    if let Some(path) = common::child_arg() {
        return in_the_shadowed_namespace(Path::new(&path));
    }
    common::assert_root("mounts over /sys/fs/cgroup in a mount namespace of its own");
    let host = Layout::detect().unwrap();
    let v2 = host.v2_root().expect("a host with a cgroup2 mount");
    assert!(v2.starts_with(CGROUP_DIR), "cgroup2 at {}", v2.display());

    let path = PathBuf::from(format!("box/shadowed-{}", std::process::id()));
    let ran = std::panic::catch_unwind(|| {
        common::run_in_own_mount_namespace("a_hidden_cgroup2_mount_is_not_used", &path)
    });
    // Whatever the child did, nothing of its cgroup may be left on the host.
    let left = Cgroup::open(&host, &path);
    if let Ok(cg) = &left {
        let _ = cg.destroy_keep_parents();
    }
    if let Err(panic) = ran {
        std::panic::resume_unwind(panic);
    }
    assert!(
        matches!(left, Err(Error::NotFound { .. })),
        "the child left {} behind",
        path.display()
    );
}

/// In the child: cover /sys/fs/cgroup with a tmpfs, bind the v1 hierarchies back, then detect
/// and make a cgroup.
fn in_the_shadowed_namespace(path: &Path) {
    let host = Layout::detect().unwrap();
    // Held open before the cover, to bind them back from.
    let v1: Vec<(PathBuf, OwnedFd)> = host
        .v1_hierarchies()
        .into_iter()
        .map(|(mount, _)| {
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            (
                mount.to_path_buf(),
                open(mount, flags, FileMode::empty()).unwrap(),
            )
        })
        .collect();
    let none = None::<&str>;
    mount(
        Some("tmpfs"),
        CGROUP_DIR,
        Some("tmpfs"),
        MsFlags::empty(),
        none,
    )
    .unwrap();
    for (mount_point, fd) in &v1 {
        std::fs::create_dir_all(mount_point).unwrap();
        let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
        mount(
            Some(source.as_str()),
            mount_point,
            none,
            MsFlags::MS_BIND,
            none,
        )
        .unwrap();
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let hidden = host.v2_root().unwrap().to_str().unwrap();
    assert!(
        mountinfo.contains(&format!(" {hidden} ")),
        "mountinfo still lists the hidden cgroup2 mount"
    );

    if v1.is_empty() {
        // A pure v2 host: nothing is left to use, and detect says so.
        let err = Layout::detect().unwrap_err();
        assert!(matches!(err, Error::NoCgroupMounts), "{err}");
        return;
    }
    let layout = Layout::detect().unwrap();
    assert_eq!(layout.v2_root(), None, "{layout:?}");
    assert_eq!(layout.mode(), Mode::V1);
    assert!(layout.is_verified());
    assert_eq!(layout.v1_hierarchies().len(), host.v1_hierarchies().len());

    let res = Resources {
        pids: layout.has(box_cgroup::Controller::Pids).then_some(16),
        ..Default::default()
    };
    let cg = Cgroup::create(&layout, path, &res).unwrap();
    let dirs: Vec<PathBuf> = cg.paths().into_iter().map(|d| d.dir).collect();
    assert_eq!(dirs.len(), host.v1_hierarchies().len());
    assert!(dirs.iter().all(|d| d.is_dir()));
    cg.destroy_keep_parents().unwrap();
    assert!(dirs.iter().all(|d| !d.exists()));
}
