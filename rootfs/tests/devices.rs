//! Root tests: host devices added to the container's `/dev`, made with `mknod` as root and
//! bound from the host in a user namespace. (Whether they may be opened is the cgroup
//! policy's business; these containers have none, so the kernel's answers show which
//! device each node really is.)

// Not every shared helper is used here.
#[allow(dead_code)]
mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use box_rootfs::{Device, DeviceType, RootfsConfig};
use common::checks::{common_checks, run};
use common::{errno, in_container, in_user_container};

/// /dev/full at /dev/extra/full (a new directory too) and the first loop device at
/// /dev/xvda.
fn config() -> (RootfsConfig, Vec<Device>) {
    let devices = vec![
        Device::from_host(Path::new("/dev/full"), "/dev/extra/full".into()).unwrap(),
        Device::from_host(Path::new("/dev/loop0"), "/dev/xvda".into()).unwrap(),
    ];
    assert_eq!(devices[1].kind, DeviceType::Block);
    let cfg = RootfsConfig {
        devices: devices.clone(),
        ..Default::default()
    };
    (cfg, devices)
}

/// Each node has the host node's type and numbers, and /dev/extra/full behaves as
/// /dev/full (a write fails with ENOSPC).
fn check_nodes(devices: &[Device]) -> common::Check {
    for d in devices {
        let meta = fs::metadata(&d.path).map_err(|e| format!("{}: {e}", d.path.display()))?;
        let is_kind = match d.kind {
            DeviceType::Char => meta.file_type().is_char_device(),
            DeviceType::Block => meta.file_type().is_block_device(),
        };
        ensure!(is_kind, "{}: not a {:?} device", d.path.display(), d.kind);
        let rdev = nix::sys::stat::makedev(d.major, d.minor);
        ensure!(
            meta.rdev() == rdev,
            "{}: rdev {:x}",
            d.path.display(),
            meta.rdev()
        );
    }
    let mut full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/extra/full")
        .map_err(|e| format!("open /dev/extra/full: {e}"))?;
    match full.write(b"x") {
        Err(e) if errno(&e) == libc::ENOSPC => Ok(()),
        other => Err(format!("write /dev/extra/full: {other:?}, not ENOSPC")),
    }
}

#[test]
fn host_devices_are_made_with_the_hosts_numbers_mode_and_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, devices) = config();
    in_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        check_nodes(&devices)?;
        for d in &devices {
            let meta = fs::metadata(&d.path).map_err(|e| e.to_string())?;
            ensure!(meta.mode() & 0o777 == d.mode, "{}: mode", d.path.display());
            ensure!((meta.uid(), meta.gid()) == (d.uid, d.gid), "owner");
        }
        let mounts = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        ensure!(
            !mounts.contains(" /dev/xvda "),
            "/dev/xvda is a bind, not a node"
        );
        Ok(())
    });
}

#[test]
fn in_a_user_namespace_host_devices_are_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, devices) = config();
    in_user_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        check_nodes(&devices)?;
        let mounts = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        for d in &devices {
            let shown = format!(" {} ", d.path.display());
            ensure!(mounts.contains(&shown), "{shown} is not a bind");
        }
        Ok(())
    });
}

#[test]
fn a_device_over_a_standard_entry_is_refused_before_anything_is_mounted() {
    let null = Device::from_host(Path::new("/dev/full"), "/dev/null".into()).unwrap();
    let cfg = RootfsConfig {
        devices: vec![null],
        ..Default::default()
    };
    let err = box_rootfs::check(&cfg).unwrap_err();
    assert!(err.to_string().contains("/dev/null"), "{err}");
}
