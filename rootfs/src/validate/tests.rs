//! Validation that needs no privileges.

use super::*;
use crate::{default_mounts, Mount};

fn with_mount(m: Mount) -> RootfsConfig {
    let mut cfg = RootfsConfig::default();
    cfg.mounts.push(m);
    cfg
}

fn tmpfs(target: &str) -> Mount {
    Mount::tmpfs(target, None, None)
}

#[test]
fn container_paths() {
    assert!(container_path(Path::new("/a/b")).is_ok());
    assert!(container_path(Path::new("/a/./b")).is_ok());
    assert!(container_path(Path::new("a/b")).is_err());
    assert!(container_path(Path::new("/a/../b")).is_err());
    assert!(container_path(Path::new("/..")).is_err());
}

#[test]
fn targets_are_validated() {
    assert!(validate_paths(&with_mount(tmpfs("/data"))).is_ok());
    for bad in ["data", "/x/../../etc", "/", "//", "/."] {
        let err = validate_paths(&with_mount(tmpfs(bad))).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err}");
    }
    let mode = Mount::tmpfs("/t", None, Some(0o17777));
    assert!(validate_paths(&with_mount(mode)).is_err());
    let rel = Mount::bind("rel", "/t", false);
    assert!(validate_paths(&with_mount(rel)).is_err());
    let cfg = RootfsConfig {
        masked_paths: vec!["proc/kcore".into()],
        ..Default::default()
    };
    assert!(validate_paths(&cfg).is_err());
}

/// Options that do not fit the mount's type are refused before anything is mounted.
#[test]
fn options_must_fit_the_type() {
    let reason = |m: Mount| match validate_paths(&with_mount(m)) {
        Err(Error::Invalid { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    let mut no_source = Mount::bind("/s", "/t", false);
    no_source.source = None;
    assert_eq!(reason(no_source), "a bind mount needs a source");
    let mut data = Mount::bind("/s", "/t", false);
    data.options.data.push("mode=755".into());
    assert_eq!(reason(data), "a bind mount takes no filesystem options");
    let mut rec = tmpfs("/t");
    rec.options.recursive = true;
    assert_eq!(reason(rec), "only a bind mount is recursive (rbind)");
    let mut mode = tmpfs("/t");
    mode.options.data.push("mode=rwx".into());
    assert_eq!(reason(mode), "tmpfs mode is not an octal number");
    let mut comma = tmpfs("/t");
    comma.options.data.push("size=1k,nr_inodes=1".into());
    assert!(reason(comma).contains("comma"));
}

/// A list without `/proc`, `/sys` and `/dev` is valid; devices and a console are not
/// without a tmpfs at `/dev` to make them in.
#[test]
fn devices_and_console_need_a_dev_tmpfs() {
    let bare = RootfsConfig {
        mounts: Vec::new(),
        ..Default::default()
    };
    assert!(validate_paths(&bare).is_ok());
    let console = RootfsConfig {
        console: true,
        ..bare.clone()
    };
    assert!(matches!(
        validate_paths(&console),
        Err(Error::Invalid { .. })
    ));
    let mut only_dev = console.clone();
    only_dev.mounts = vec![default_mounts()[2].clone()];
    assert!(validate_paths(&only_dev).is_ok());
    let mut dev_bind = console;
    dev_bind.mounts = vec![Mount::bind("/dev", "/dev", false)];
    assert!(validate_paths(&dev_bind).is_err());
}

#[test]
fn check_touches_only_what_exists() {
    assert!(check(&RootfsConfig::default()).is_ok());
    let missing = RootfsConfig {
        root: Root::Dir("/nonexistent-box-root".into()),
        ..Default::default()
    };
    let err = check(&missing).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
    let file = RootfsConfig {
        root: Root::Dir("/proc/self/status".into()),
        ..Default::default()
    };
    assert!(matches!(check(&file), Err(Error::Invalid { .. })));
    let host = RootfsConfig {
        root: Root::Dir("/".into()),
        ..Default::default()
    };
    assert!(matches!(check(&host), Err(Error::HostRoot { .. })));
    let src = Mount::bind("/nonexistent-box-src", "/t", true);
    assert_eq!(
        check(&with_mount(src)).unwrap_err().errno(),
        Some(Errno::ENOENT)
    );
    assert!(check(&with_mount(Mount::bind("/etc", "/t", true))).is_ok());
}
