//! Checks that need no privileges: run them in the parent before cloning.

use std::os::fd::BorrowedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::sys::stat::{fstat, stat};

use crate::{Error, MountKind, Root, RootfsConfig};

/// Validates `cfg` cheaply, before any namespace exists: the root directory
/// exists, is a directory and is not the host's `/` (see
/// [`Error::HostRoot`]), bind sources exist, and every container path is
/// absolute and free of `..`.
pub fn check(cfg: &RootfsConfig) -> Result<(), Error> {
    if let Root::Dir(dir) = &cfg.root {
        host_path(dir)?;
        let meta = std::fs::metadata(dir).map_err(|e| host_err("stat root directory", dir, &e))?;
        if !meta.is_dir() {
            return Err(Error::Invalid {
                path: dir.clone(),
                reason: "root is not a directory",
            });
        }
        let host = std::fs::metadata("/").map_err(|e| host_err("stat", Path::new("/"), &e))?;
        if (meta.dev(), meta.ino()) == (host.dev(), host.ino()) {
            return Err(Error::HostRoot { path: dir.clone() });
        }
    }
    validate_paths(cfg)?;
    crate::device::check(&cfg.devices)?;
    for m in &cfg.mounts {
        if let MountKind::Bind { source, .. } = &m.kind {
            host_path(source)?;
            std::fs::metadata(source).map_err(|e| host_err("stat bind source", source, &e))?;
        }
    }
    Ok(())
}

/// The pure part of [`check`], repeated by `setup` because a config can reach
/// the child without having been checked.
pub(crate) fn validate_paths(cfg: &RootfsConfig) -> Result<(), Error> {
    for m in &cfg.mounts {
        container_path(&m.target)?;
        if m.target.components().all(|c| c == Component::RootDir) {
            return Err(Error::Invalid {
                path: m.target.clone(),
                reason: "cannot mount over /",
            });
        }
        match &m.kind {
            MountKind::Bind { source, .. } => host_path(source)?,
            MountKind::Tmpfs {
                mode: Some(mode), ..
            } if *mode > 0o7777 => {
                return Err(Error::Invalid {
                    path: m.target.clone(),
                    reason: "tmpfs mode above 0o7777",
                })
            }
            MountKind::Tmpfs { .. } => {}
        }
    }
    for p in cfg.masked_paths.iter().chain(&cfg.readonly_paths) {
        container_path(p)?;
    }
    Ok(())
}

/// Refuses a root directory (`fd`, opened from `dir`) that is the host's own
/// `/`: by path, through a symlink or as a bind mount of it, all of which
/// share `/`'s device and inode. Mounting it would give the container the
/// host's files, writable.
pub(crate) fn refuse_host_root(dir: &Path, fd: BorrowedFd<'_>) -> Result<(), Error> {
    let root = fstat(fd).map_err(|errno| Error::HostPath {
        step: "stat root directory",
        path: dir.into(),
        errno,
    })?;
    let host = stat("/").map_err(|errno| Error::HostPath {
        step: "stat",
        path: "/".into(),
        errno,
    })?;
    if (root.st_dev, root.st_ino) == (host.st_dev, host.st_ino) {
        return Err(Error::HostRoot { path: dir.into() });
    }
    Ok(())
}

/// A path inside the container: absolute, no `..`.
pub(crate) fn container_path(p: &Path) -> Result<(), Error> {
    if !p.is_absolute() {
        return Err(Error::Invalid {
            path: p.into(),
            reason: "container path must be absolute",
        });
    }
    if p.components().any(|c| c == Component::ParentDir) {
        return Err(Error::Invalid {
            path: p.into(),
            reason: "container path must not contain '..'",
        });
    }
    Ok(())
}

/// A host path: absolute (relative paths would depend on the child's cwd).
fn host_path(p: &Path) -> Result<(), Error> {
    if p.is_absolute() {
        Ok(())
    } else {
        Err(Error::Invalid {
            path: p.into(),
            reason: "host path must be absolute",
        })
    }
}

fn host_err(step: &'static str, path: &Path, e: &std::io::Error) -> Error {
    let errno = e.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
    Error::HostPath {
        step,
        path: path.into(),
        errno,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mount;

    fn with_mount(target: &str, kind: MountKind) -> RootfsConfig {
        RootfsConfig {
            mounts: vec![Mount {
                target: target.into(),
                kind,
            }],
            ..Default::default()
        }
    }

    fn tmpfs() -> MountKind {
        MountKind::Tmpfs {
            size: None,
            mode: None,
        }
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
        assert!(validate_paths(&with_mount("/data", tmpfs())).is_ok());
        for bad in ["data", "/x/../../etc", "/", "//", "/."] {
            let err = validate_paths(&with_mount(bad, tmpfs())).unwrap_err();
            assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err}");
        }
        let mode = MountKind::Tmpfs {
            size: None,
            mode: Some(0o17777),
        };
        assert!(validate_paths(&with_mount("/t", mode)).is_err());
        let rel = MountKind::Bind {
            source: "rel".into(),
            readonly: false,
        };
        assert!(validate_paths(&with_mount("/t", rel)).is_err());
        let cfg = RootfsConfig {
            masked_paths: vec!["proc/kcore".into()],
            ..Default::default()
        };
        assert!(validate_paths(&cfg).is_err());
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
        let src = MountKind::Bind {
            source: "/nonexistent-box-src".into(),
            readonly: true,
        };
        assert_eq!(
            check(&with_mount("/t", src)).unwrap_err().errno(),
            Some(Errno::ENOENT)
        );
        let src = MountKind::Bind {
            source: "/etc".into(),
            readonly: true,
        };
        assert!(check(&with_mount("/t", src)).is_ok());
    }
}
