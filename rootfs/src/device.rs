//! Host devices added to the container's `/dev` (Docker's `--device HOST:CONTAINER`): the
//! node is made with the host node's type, numbers, mode and owner, or, where `mknod` is
//! not allowed (a user namespace), the host's node is bound over an empty file.
//!
//! Whether the container may open the node is the cgroup device policy's business; the
//! front end allows each added device there too.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{openat, AtFlags, OFlag};
use nix::mount::MsFlags;
use nix::sys::stat::{major, makedev, minor, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, Gid, Uid};
use serde::{Deserialize, Serialize};

use crate::sys;
use crate::Error;

/// A device node in the container's `/dev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Where the container sees it: an absolute path below `/dev` (e.g. `/dev/xvda`,
    /// `/dev/net/tun`); missing directories are created.
    pub path: PathBuf,
    pub kind: DeviceType,
    pub major: u64,
    pub minor: u64,
    /// Permission bits of the node (e.g. `0o660`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The host's node, bound instead where `mknod` is refused.
    pub source: PathBuf,
}

/// Character or block device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    Char,
    Block,
}

/// Entries of `/dev` that every container has; a device may not take their place.
const STANDARD: &[&str] = &[
    "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx", "pts", "shm", "mqueue",
    "fd", "stdin", "stdout", "stderr", "core",
];

impl Device {
    /// The host node `source` (symlinks followed, as Docker does), to appear at `path`.
    pub fn from_host(source: &Path, path: PathBuf) -> Result<Device, Error> {
        let host_err = |step, errno| Error::HostPath {
            step,
            path: source.into(),
            errno,
        };
        let st = nix::sys::stat::stat(source).map_err(|e| host_err("stat device", e))?;
        let kind = match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFCHR => DeviceType::Char,
            SFlag::S_IFBLK => DeviceType::Block,
            _ => {
                return Err(Error::Invalid {
                    path: source.into(),
                    reason: "not a device node (a character or block device)",
                })
            }
        };
        let canonical = std::fs::canonicalize(source).map_err(|e| {
            host_err(
                "resolve device",
                nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            )
        })?;
        Ok(Device {
            path,
            kind,
            major: major(st.st_rdev),
            minor: minor(st.st_rdev),
            mode: st.st_mode & 0o777,
            uid: st.st_uid,
            gid: st.st_gid,
            source: canonical,
        })
    }

    /// Whether `path` can be made in the container's `/dev` beside the `earlier` devices:
    /// below `/dev`, plain names only, not one of the standard entries, neither equal to nor
    /// inside nor around another device's path. `Err` says why.
    pub fn validate(&self, earlier: &[Device]) -> Result<(), &'static str> {
        let rel = relative(&self.path)?;
        let first = rel.iter().next().and_then(OsStr::to_str);
        if first.is_some_and(|f| STANDARD.contains(&f)) {
            return Err("every container has this /dev entry already; choose another path");
        }
        for other in earlier {
            if other.path == self.path {
                return Err("another device has this path already");
            }
            if other.path.starts_with(&self.path) || self.path.starts_with(&other.path) {
                return Err("one device's path is inside another's");
            }
        }
        Ok(())
    }
}

/// `path` below `/dev`, checked: absolute, under `/dev/`, only plain names.
fn relative(path: &Path) -> Result<&Path, &'static str> {
    let rel = path
        .strip_prefix("/dev")
        .map_err(|_| "a device's path must be an absolute path below /dev/")?;
    if rel.as_os_str().is_empty() {
        return Err("a device's path must be an absolute path below /dev/");
    }
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err("a device's path must not contain \".\" or \"..\"");
    }
    Ok(rel)
}

/// Checks every device's path against the others (see [`Device::validate`]).
pub(crate) fn check(devices: &[Device]) -> Result<(), Error> {
    for (i, d) in devices.iter().enumerate() {
        d.validate(&devices[..i]).map_err(|reason| Error::Invalid {
            path: d.path.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// Creates the devices in the fresh `/dev` tmpfs `dev` (reachable as `dev_path`); `bind`:
/// bind the host nodes (reached under `/oldroot`) instead of `mknod`.
pub(crate) fn create(
    dev: BorrowedFd<'_>,
    dev_path: &Path,
    devices: &[Device],
    bind: bool,
) -> Result<(), Error> {
    check(devices)?;
    for d in devices {
        let rel = relative(&d.path).map_err(|reason| Error::Invalid {
            path: d.path.clone(),
            reason,
        })?;
        let (parent, leaf) = parent_dir(dev, rel, &d.path)?;
        let fs_err = |step, errno| Error::Fs {
            step,
            path: d.path.clone(),
            errno,
        };
        if bind {
            sys::touch_at(parent.as_fd(), leaf, 0o600, &d.path)?;
            let host = Path::new("/oldroot").join(d.source.strip_prefix("/").unwrap_or(&d.source));
            sys::mount(
                "bind host device",
                Some(&host),
                &dev_path.join(rel),
                &d.path,
                None,
                MsFlags::MS_BIND,
                None,
            )?;
            continue;
        }
        let kind = match d.kind {
            DeviceType::Char => SFlag::S_IFCHR,
            DeviceType::Block => SFlag::S_IFBLK,
        };
        let perm = Mode::from_bits_truncate(d.mode & 0o777);
        mknodat(parent.as_fd(), leaf, kind, perm, makedev(d.major, d.minor))
            .map_err(|e| fs_err("create device node", e))?;
        let (uid, gid) = (Some(Uid::from_raw(d.uid)), Some(Gid::from_raw(d.gid)));
        fchownat(parent.as_fd(), leaf, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(|e| fs_err("chown device node", e))?;
    }
    Ok(())
}

/// Makes and opens the directories of `rel` (below our own fresh `/dev`, so nothing there is
/// the container's yet), returning the last one and the node's name.
fn parent_dir<'a>(
    dev: BorrowedFd<'_>,
    rel: &'a Path,
    shown: &Path,
) -> Result<(OwnedFd, &'a OsStr), Error> {
    let names: Vec<&OsStr> = rel.iter().collect();
    let (leaf, dirs) = names.split_last().ok_or(Error::Invalid {
        path: shown.into(),
        reason: "a device's path must be an absolute path below /dev/",
    })?;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut dir = openat(dev, ".", flags, Mode::empty()).map_err(|errno| Error::Fs {
        step: "open",
        path: "/dev".into(),
        errno,
    })?;
    let mut here = PathBuf::from("/dev");
    for name in dirs {
        here.push(name);
        sys::mkdir_at(dir.as_fd(), name, 0o755, &here)?;
        dir = openat(dir.as_fd(), *name, flags, Mode::empty()).map_err(|errno| Error::Fs {
            step: "open directory",
            path: here.clone(),
            errno,
        })?;
    }
    Ok((dir, leaf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> Device {
        Device {
            path: path.into(),
            kind: DeviceType::Char,
            major: 1,
            minor: 7,
            mode: 0o666,
            uid: 0,
            gid: 0,
            source: "/dev/full".into(),
        }
    }

    #[test]
    fn paths_must_be_new_entries_below_dev() {
        let ok = [at("/dev/xvda"), at("/dev/net/tun"), at("/dev/fuse")];
        check(&ok).unwrap();
        for bad in [
            "/xvda",
            "dev/xvda",
            "/dev",
            "/dev/",
            "/dev/../etc/x",
            "/devx",
        ] {
            assert!(at(bad).validate(&[]).is_err(), "{bad}");
        }
        for taken in [
            "/dev/null",
            "/dev/pts/9",
            "/dev/shm/x",
            "/dev/console",
            "/dev/fd",
        ] {
            assert!(at(taken).validate(&[]).is_err(), "{taken}");
        }
        assert!(
            at("/dev/xvda").validate(&ok).is_err(),
            "the same path twice"
        );
        assert!(
            at("/dev/net").validate(&ok).is_err(),
            "a device around another"
        );
        assert!(
            at("/dev/fuse/x").validate(&ok).is_err(),
            "a device inside another"
        );
        assert!(check(&[at("/dev/a"), at("/dev/a")]).is_err());
    }

    #[test]
    fn from_host_reads_the_node() {
        let d = Device::from_host(Path::new("/dev/full"), "/dev/f".into()).unwrap();
        assert_eq!((d.kind, d.major, d.minor), (DeviceType::Char, 1, 7));
        assert_eq!(d.source, Path::new("/dev/full"));
        let e = Device::from_host(Path::new("/etc/passwd"), "/dev/f".into()).unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{e}");
        let e = Device::from_host(Path::new("/dev/nonexistent"), "/dev/f".into()).unwrap_err();
        assert_eq!(e.errno(), Some(nix::errno::Errno::ENOENT));
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&at("/dev/x")).unwrap();
        assert_eq!(
            json,
            r#"{"path":"/dev/x","kind":"char","major":1,"minor":7,"mode":438,"uid":0,"gid":0,"source":"/dev/full"}"#
        );
    }
}
