//! Control-file access never follows a symlink, never leaves the hierarchy, and a root from
//! mountinfo must be the cgroup filesystem it claims to be.

use std::os::fd::AsFd;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::OFlag;

use super::resolve::{open_beneath, walk};
use super::*;
use crate::error::Error;

/// A tree: `real/` holding `file`, `link -> real`, `real/flink -> <outside>/secret`.
fn tree() -> (tempfile::TempDir, tempfile::TempDir, Dir) {
    let top = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let t = top.path();
    std::fs::create_dir(t.join("real")).unwrap();
    std::fs::write(t.join("real/file"), "1\n").unwrap();
    std::fs::write(outside.path().join("secret"), "untouched").unwrap();
    symlink(t.join("real"), t.join("link")).unwrap();
    symlink(outside.path().join("secret"), t.join("real/flink")).unwrap();
    let root = Dir::root(&Arc::new(Root::open_given(t).unwrap()));
    (top, outside, root)
}

#[test]
fn both_resolvers_open_plain_names_and_refuse_symlinks() {
    let (top, _outside, _root) = tree();
    let base = std::fs::File::open(top.path()).unwrap();
    let base = base.as_fd();
    for open in [open_beneath, walk] {
        assert!(open(base, Path::new("real/file"), OFlag::O_RDONLY).is_ok());
        assert!(open(base, Path::new(""), OFlag::O_RDONLY | OFlag::O_DIRECTORY).is_ok());
        for bad in ["link/file", "real/flink", "link"] {
            let flags = [OFlag::O_RDONLY, OFlag::O_PATH];
            for f in flags {
                let err = open(base, Path::new(bad), f).unwrap_err();
                assert!(matches!(err, Errno::ELOOP | Errno::ENOTDIR), "{bad}: {err}");
            }
        }
        for escape in ["../x", "/etc/passwd", "real/../real/file"] {
            assert!(
                open(base, Path::new(escape), OFlag::O_RDONLY).is_err(),
                "{escape}"
            );
        }
    }
}

#[test]
fn a_write_through_a_symlinked_file_or_directory_is_refused() {
    let (top, outside, root) = tree();
    let err = write(&root.join("real").unwrap(), "flink", "pwned").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Write {
                errno: Errno::ELOOP,
                ..
            }
        ),
        "{err}"
    );
    let err = write(&root.join("link").unwrap(), "file", "2").unwrap_err();
    assert!(matches!(err, Error::Write { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret")).unwrap(),
        "untouched"
    );
    assert_eq!(
        std::fs::read_to_string(top.path().join("real/file")).unwrap(),
        "1\n"
    );
    assert!(read(&root.join("real").unwrap(), "flink").is_err());
    assert!(!exists(&root.join("real").unwrap(), "flink"));
    // The plain path works.
    write(&root.join("real").unwrap(), "file", "2").unwrap();
    assert_eq!(read(&root.join("real").unwrap(), "file").unwrap(), "2");
}

#[test]
fn directories_are_made_and_removed_only_below_real_directories() {
    let (top, _outside, root) = tree();
    // `link/new` would land in `real/new`.
    let via_link = root.join("link/new").unwrap();
    assert!(mkdir(&via_link).is_err());
    assert!(!top.path().join("real/new").exists());
    assert!(!is_dir(&root.join("link").unwrap()));
    assert!(rmdir(&root.join("link").unwrap()).is_err());
    assert!(top.path().join("link").exists());

    let new = root.join("real/new").unwrap();
    assert_eq!(mkdir(&new), Ok(true));
    assert_eq!(mkdir(&new), Ok(false));
    let mut names = subdirs(&root).unwrap();
    names.sort();
    assert_eq!(names, vec!["real"], "symlinks are not subdirectories");
    assert_eq!(subdirs(&root.join("real").unwrap()).unwrap(), vec!["new"]);
    rmdir(&new).unwrap();
    assert!(!top.path().join("real/new").exists());
    assert_eq!(mkdir(&root), Err(Errno::EINVAL), "the root is never made");
}

#[test]
fn dirs_take_plain_names_only() {
    let (_top, _outside, root) = tree();
    for bad in ["", "..", "/abs", "a/../b", "./a"] {
        assert!(root.join(bad).is_err(), "{bad:?}");
    }
    let d = root.join("real/x").unwrap();
    assert_eq!(d.name().unwrap(), "x");
    assert_eq!(d.parent().unwrap().path(), root.path().join("real"));
    assert!(d.parent().unwrap().parent().unwrap().is_root());
}

#[test]
fn a_root_from_mountinfo_must_be_a_cgroup_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    for v2 in [false, true] {
        let expected = Expected { v2, dev: (0, 0) };
        let err = Root::open_verified_in(open_slash().unwrap().as_fd(), dir.path(), expected)
            .unwrap_err();
        assert!(
            matches!(&err, Error::NotCgroupfs { reason, .. } if reason.contains("not a cgroup")),
            "{err}"
        );
    }
    // No symlink on the way either: mountinfo names canonical paths.
    symlink(dir.path(), dir.path().join("link")).unwrap();
    let expected = Expected {
        v2: true,
        dev: (0, 0),
    };
    let err = Root::open_verified_in(
        open_slash().unwrap().as_fd(),
        &dir.path().join("link"),
        expected,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OpenRoot {
                errno: Errno::ELOOP | Errno::ENOTDIR,
                ..
            }
        ),
        "{err}"
    );
    let relative = Root::open_verified_in(
        open_slash().unwrap().as_fd(),
        Path::new("sys/fs/cgroup"),
        expected,
    )
    .unwrap_err();
    assert!(matches!(
        relative,
        Error::OpenRoot {
            errno: Errno::EINVAL,
            ..
        }
    ));
}
