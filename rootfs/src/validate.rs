//! Checks that need no privileges: run them in the parent before cloning.

use std::os::fd::BorrowedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path};

use nix::errno::Errno;
use nix::sys::stat::{fstat, stat};

use crate::{Error, Mount, MountType, Root, RootfsConfig};

/// Validates `cfg` cheaply, before any namespace exists: the root directory
/// exists, is a directory and is not the host's `/` (see
/// [`Error::HostRoot`]), bind sources exist, every container path is
/// absolute and free of `..`, every mount's options fit its type, and devices
/// or a console have a tmpfs at `/dev` to go in.
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
    if let Root::Overlay(o) = &cfg.root {
        crate::overlay::check(o, true)?;
    }
    validate_paths(cfg)?;
    crate::device::check(&cfg.devices)?;
    for m in &cfg.mounts {
        if let (MountType::Bind, Some(source)) = (m.kind, &m.source) {
            std::fs::metadata(source).map_err(|e| host_err("stat bind source", source, &e))?;
        }
    }
    Ok(())
}

/// The pure part of [`check`], repeated by `setup` because a config can reach
/// the child without having been checked.
pub(crate) fn validate_paths(cfg: &RootfsConfig) -> Result<(), Error> {
    if let Root::Overlay(o) = &cfg.root {
        crate::overlay::check(o, false)?;
    }
    for m in &cfg.mounts {
        mount(m)?;
    }
    for p in cfg.masked_paths.iter().chain(&cfg.readonly_paths) {
        container_path(p)?;
    }
    if let Some(fs) = &cfg.cgroupfs {
        crate::cgroupfs::check(fs)?;
    }
    let dev_tmpfs = cfg
        .mounts
        .iter()
        .any(|m| m.kind == MountType::Tmpfs && m.destination == Path::new("/dev"));
    if (cfg.console || !cfg.devices.is_empty()) && !dev_tmpfs {
        return Err(Error::Invalid {
            path: "/dev".into(),
            reason: "devices and a console are made in a tmpfs at /dev, and no mount makes one",
        });
    }
    Ok(())
}

/// One mount: its destination, its source, and options that fit its type.
fn mount(m: &Mount) -> Result<(), Error> {
    let invalid = |reason| Error::Invalid {
        path: m.destination.clone(),
        reason,
    };
    container_path(&m.destination)?;
    if m.destination.components().all(|c| c == Component::RootDir) {
        return Err(invalid("cannot mount over /"));
    }
    let o = &m.options;
    if o.data
        .iter()
        .any(|d| d.is_empty() || d.contains([',', '\0']))
    {
        return Err(invalid(
            "a filesystem option is empty or holds a comma or NUL byte",
        ));
    }
    match (m.kind, &m.source) {
        (MountType::Bind, Some(source)) => host_path(source)?,
        (MountType::Bind, None) => return Err(invalid("a bind mount needs a source")),
        (_, Some(source)) if source.as_os_str().as_encoded_bytes().contains(&0) => {
            return Err(invalid("a mount source holds no NUL byte"))
        }
        _ => {}
    }
    if m.kind == MountType::Bind && !o.data.is_empty() {
        return Err(invalid("a bind mount takes no filesystem options"));
    }
    if m.kind != MountType::Bind && o.recursive {
        return Err(invalid("only a bind mount is recursive (rbind)"));
    }
    if m.kind == MountType::Tmpfs {
        let modes = o.data.iter().filter_map(|d| d.strip_prefix("mode="));
        for mode in modes {
            match u32::from_str_radix(mode, 8) {
                Ok(mode) if mode <= 0o7777 => {}
                Ok(_) => return Err(invalid("tmpfs mode above 0o7777")),
                Err(_) => return Err(invalid("tmpfs mode is not an octal number")),
            }
        }
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
mod tests;
