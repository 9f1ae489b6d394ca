//! A layout read from mountinfo reads and writes only through hierarchy roots that are the
//! cgroup filesystems mountinfo names (`fstatfs` magic, device), held open from detection
//! on; a layout the caller gives is used as given.

mod common;

use std::path::{Path, PathBuf};

use box_cgroup::{Cgroup, Error, Layout, Resources};
use nix::fcntl::AtFlags;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::fstatat;

fn not_cgroupfs(err: &Error, words: &str) -> bool {
    matches!(err, Error::NotCgroupfs { reason, .. } if reason.contains(words))
}

#[test]
fn a_directory_mountinfo_wrongly_calls_cgroup2_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "1 0 0:1 / {} rw - cgroup2 cgroup2 rw\n",
        dir.path().display()
    );
    let layout = Layout::from_mountinfo(&text).unwrap();
    assert!(layout.is_verified());
    let err = Cgroup::create(&layout, Path::new("box/x"), &Resources::default()).unwrap_err();
    assert!(not_cgroupfs(&err, "not a cgroup2 filesystem"), "{err}");
    assert!(!dir.path().join("box").exists(), "nothing made in it");

    // The same directory given by the caller (a prepared tree) is used as given.
    std::fs::write(dir.path().join("cgroup.controllers"), "").unwrap();
    let given = Layout::v2(dir.path().to_path_buf()).unwrap();
    assert!(!given.is_verified());
    let cg = Cgroup::create(&given, Path::new("box/x"), &Resources::default()).unwrap();
    assert!(dir.path().join("box/x").is_dir());
    cg.destroy().unwrap();
}

/// This host's mountinfo with the line of the mount at `point` changed by `edit`, and
/// without the lines `drop` picks.
fn edited(
    point: &Path,
    edit: impl Fn(&mut Vec<String>, usize),
    drop: impl Fn(&[String], usize) -> bool,
) -> String {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let point = point.to_str().unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut f: Vec<String> = line.split(' ').map(String::from).collect();
        let sep = f.iter().position(|x| x == "-").unwrap();
        if f[4] == point {
            edit(&mut f, sep);
        } else if drop(&f, sep) {
            continue;
        }
        out += &(f.join(" ") + "\n");
    }
    out
}

#[test]
fn a_hierarchy_with_another_device_or_version_than_mountinfo_says_is_refused() {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let host = Layout::from_mountinfo(&text).expect("a host with cgroups");
    // As the kernel lists them, the roots pass.
    let missing = PathBuf::from(format!("box/not-there-{}", std::process::id()));
    assert!(matches!(
        Cgroup::open(&host, &missing),
        Err(Error::NotFound { .. })
    ));
    // A v1 hierarchy where there is one (else the cgroup2 mount).
    let point = host
        .v1_hierarchies()
        .first()
        .map(|(p, _)| *p)
        .or_else(|| host.v2_root())
        .unwrap();

    let other_device = edited(point, |f, _| f[2] = "0:1".to_string(), |_, _| false);
    let layout = Layout::from_mountinfo(&other_device).unwrap();
    let err = Cgroup::open(&layout, &missing).unwrap_err();
    assert!(not_cgroupfs(&err, "device"), "{err}");

    // A v1 hierarchy said to be the (only) cgroup2 mount, or cgroup2 said to be v1.
    let flip = |f: &mut Vec<String>, sep: usize| {
        let v2 = f[sep + 1] == "cgroup2";
        f[sep + 1] = if v2 { "cgroup" } else { "cgroup2" }.to_string();
        f[sep + 3] = "rw,pids".to_string();
    };
    let other_cgroup2 = |f: &[String], sep: usize| f[sep + 1] == "cgroup2";
    let layout = Layout::from_mountinfo(&edited(point, flip, other_cgroup2)).unwrap();
    let err = Cgroup::open(&layout, &missing).unwrap_err();
    assert!(not_cgroupfs(&err, "not a cgroup"), "{err}");
}

#[test]
fn a_hierarchy_mounted_over_after_detection_is_still_the_one_written() {
    // In the child: the cgroup path to make.
    if let Some(path) = common::child_arg() {
        return write_under_a_new_mount(Path::new(&path));
    }
    common::assert_root("mounts over a cgroup hierarchy in a mount namespace of its own");
    let host = Layout::detect().unwrap();
    let path = PathBuf::from(format!("box/verified-{}", std::process::id()));
    let ran = std::panic::catch_unwind(|| {
        common::run_in_own_mount_namespace(
            "a_hierarchy_mounted_over_after_detection_is_still_the_one_written",
            &path,
        )
    });
    let left = Cgroup::open(&host, &path);
    if let Ok(cg) = &left {
        let _ = cg.destroy_keep_parents();
    }
    if let Err(panic) = ran {
        std::panic::resume_unwind(panic);
    }
    assert!(matches!(left, Err(Error::NotFound { .. })), "left behind");
}

/// In the child: detect, then cover the first hierarchy with a tmpfs; the cgroup is still
/// made in the real hierarchy, and nothing lands in the tmpfs.
fn write_under_a_new_mount(path: &Path) {
    let layout = Layout::detect().unwrap();
    let point = layout
        .v1_hierarchies()
        .first()
        .map(|(p, _)| p.to_path_buf())
        .or_else(|| layout.v2_root().map(Path::to_path_buf))
        .unwrap();
    let real = std::fs::File::open(&point).unwrap();
    let none = None::<&str>;
    mount(Some("tmpfs"), &point, Some("tmpfs"), MsFlags::empty(), none).unwrap();

    let cg = Cgroup::create(&layout, path, &Resources::default()).unwrap();
    let at = |p: &Path| fstatat(&real, p, AtFlags::AT_SYMLINK_NOFOLLOW);
    assert!(at(path).is_ok(), "made in the real hierarchy");
    assert!(!point.join("box").exists(), "nothing in the tmpfs on top");
    cg.destroy_keep_parents().unwrap();
    assert!(at(path).is_err());
}
