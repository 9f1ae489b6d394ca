//! The container's mounts are box's, not the container's: it cannot add, remove or move a
//! mount, nor make a read-only one writable.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use box_tests::HostMounts;

use crate::support::{bind, Attack};

#[test]
fn mount_umount_pivot_root_and_the_new_mount_api_are_refused() {
    let attack = Attack::new("atk-mount", &["/probe", "mounts"], "");
    let host = HostMounts::snapshot(attack.dir());
    let report = attack.run();
    for name in [
        "mount tmpfs on /etc",
        "mount --rbind /",
        "mount proc",
        "mount sysfs",
        "mount cgroup",
        "mount --make-rshared /",
        "umount /proc/sys",
        "umount /proc",
        "umount /",
        "fsopen",
        "fspick /",
        "open_tree / (clone)",
        "fsmount",
        "move_mount /proc",
        "mount_setattr /proc",
        "pivot_root",
    ] {
        report.assert_errno(name, libc::EPERM);
    }
    host.assert_unchanged(attack.dir());
}

#[test]
fn a_read_only_mount_cannot_be_made_writable() {
    let attack = Attack::new(
        "atk-remount",
        &[
            "/bin/sh",
            "-c",
            "/probe remount /data file; /probe remount /proc/sys; /probe remount /sys",
        ],
        // Relative to the box.toml: the case's directory.
        &bind(Path::new("data"), "/data", true),
    );
    let data = attack.dir().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("file"), "the host's\n").unwrap();
    std::fs::set_permissions(data.join("file"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let host = HostMounts::snapshot(attack.dir());

    let report = attack.run();
    for dir in ["/data", "/proc/sys", "/sys"] {
        for how in [
            "remount,bind,rw",
            "remount,rw",
            "mount_setattr -rdonly",
            "umount",
        ] {
            report.assert_errno(&format!("{how} {dir}"), libc::EPERM);
        }
    }
    for change in [
        "append /data/file",
        "create /data/box-probe-new",
        "chmod /data/file",
        "mkdir /data/box-probe-dir",
        "rename /data/file",
        "unlink /data/file",
    ] {
        report.assert_errno(change, libc::EROFS);
    }

    host.assert_unchanged(attack.dir());
    let names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["file"]);
    assert_eq!(
        std::fs::read_to_string(data.join("file")).unwrap(),
        "the host's\n"
    );
    let mode = std::fs::metadata(data.join("file"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640);
}

/// The host check above would see a mount that leaked to the host: here the test itself
/// mounts a tmpfs on the host, under the case's directory, between the two snapshots.
#[test]
fn the_host_mount_check_sees_a_new_mount() {
    box_tests::require_root();
    let dir = tempfile::Builder::new()
        .prefix("boxtest-")
        .tempdir()
        .unwrap();
    let target = dir.path().join("leak");
    std::fs::create_dir(&target).unwrap();
    let host = HostMounts::snapshot(dir.path());
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "leak"])
        .arg(&target)
        .status()
        .expect("run mount");
    assert!(status.success());
    let seen = std::panic::catch_unwind(|| host.assert_unchanged(dir.path()));
    let status = std::process::Command::new("umount")
        .arg(&target)
        .status()
        .expect("run umount");
    assert!(status.success());
    assert!(seen.is_err(), "a new host mount went unnoticed");
    host.assert_unchanged(dir.path());
}
