//! `rootfs` and `[[mounts]]`: the container's root filesystem, paths relative to the box.toml.
//! The `[[mounts]]` go after box-rootfs's default mounts (Docker's `/proc`, `/sys`, `/dev`).

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use box_cgroup::parse_size;
use box_rootfs::{CgroupFs, Mount, Root, RootfsConfig};

use super::schema::{self, Size};
use super::to_spec::Ctx;
use super::{ConfigError, Seg};

/// `rootfs`, `[[mounts]]` and the file-level bits of the root filesystem.
pub fn rootfs(c: &Ctx<'_>) -> Result<RootfsConfig, ConfigError> {
    let f = c.file;
    let rootfs = f.rootfs.as_deref().unwrap_or(schema::DEFAULT_ROOTFS);
    let root = if rootfs == schema::DEFAULT_ROOTFS || f.image.is_some() {
        // An image's overlay root replaces this (see image.rs).
        Root::Host
    } else {
        let dir = absolute(&c.loaded.base_dir(), rootfs);
        if !dir.is_dir() {
            return Err(c.err(
                &["rootfs"],
                format!(
                    "{} is not a directory (use \"host\" for a read-only view of this host)",
                    dir.display()
                ),
            ));
        }
        if is_host_root(&dir) {
            return Err(c.err(
                &["rootfs"],
                format!(
                    "{:?} is this host's root directory (/), which the container could change; \
                     use \"host\" for a read-only view of this host",
                    rootfs
                ),
            ));
        }
        Root::Dir(dir)
    };
    let mut mounts = box_rootfs::default_mounts();
    for (i, m) in f.mounts.iter().enumerate() {
        let at = |field: &str, msg: String| {
            c.error_at(
                &[
                    Seg::Key("mounts".into()),
                    Seg::Index(i),
                    Seg::Key(field.into()),
                ],
                msg,
            )
        };
        let target = |t: &str| {
            let p = PathBuf::from(t);
            if !p.is_absolute() || p.components().any(|c| c == Component::ParentDir) {
                Err(at(
                    "target",
                    format!("{t:?} must be an absolute path without \"..\""),
                ))
            } else {
                Ok(p)
            }
        };
        mounts.push(match m {
            schema::Mount::Bind {
                source,
                target: t,
                readonly,
            } => {
                let source = absolute(&c.loaded.base_dir(), source);
                if !source.exists() {
                    return Err(at("source", format!("{} does not exist", source.display())));
                }
                Mount::bind(source, target(t)?, *readonly)
            }
            schema::Mount::Tmpfs {
                target: t,
                size,
                mode,
            } => Mount::tmpfs(
                target(t)?,
                size.as_ref()
                    .map(|s| size_bytes(s).map_err(|m| at("size", m)))
                    .transpose()?,
                mode.as_ref()
                    .map(|m| file_mode(m).map_err(|e| at("mode", e)))
                    .transpose()?,
            ),
        });
    }
    Ok(RootfsConfig {
        root,
        readonly: f.security.readonly_rootfs,
        mounts,
        console: f.tty,
        // Docker's read-only /sys/fs/cgroup of the container's own cgroups; the launcher
        // mounts what the host has, in a new cgroup namespace only (docs/cgroups.md).
        cgroupfs: Some(CgroupFs::Detect),
        ..RootfsConfig::default()
    })
}

/// Whether `dir` is `/` itself: by name, through a symlink, or as a bind mount of it (the same
/// device and inode).
fn is_host_root(dir: &Path) -> bool {
    match (std::fs::metadata(dir), std::fs::metadata("/")) {
        (Ok(d), Ok(root)) => (d.dev(), d.ino()) == (root.dev(), root.ino()),
        _ => false,
    }
}

pub fn absolute(base: &Path, p: &str) -> PathBuf {
    let joined = base.join(p);
    std::fs::canonicalize(&joined).unwrap_or(joined)
}

pub fn size_bytes(s: &Size) -> Result<u64, String> {
    match s {
        Size::Bytes(n) if *n >= 0 => Ok(*n as u64),
        Size::Bytes(n) => Err(format!("{n} is negative")),
        Size::Text(t) => parse_size(t).map_err(|e| e.to_string()),
    }
}

fn file_mode(m: &schema::Mode) -> Result<u32, String> {
    let mode = match m {
        schema::Mode::Number(n) => *n,
        schema::Mode::Text(t) => u32::from_str_radix(t.trim_start_matches("0o"), 8)
            .map_err(|_| format!("{t:?} is not an octal mode like \"1777\""))?,
    };
    if mode > 0o7777 {
        return Err(format!("{mode:o} is not a mode (at most 7777)"));
    }
    Ok(mode)
}
