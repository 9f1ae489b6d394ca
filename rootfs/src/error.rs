//! Errors: each names the step that failed, the path(s) involved and the errno.

use std::path::PathBuf;

use nix::errno::Errno;

/// Why building the root filesystem failed.
///
/// Paths are shown as the container will see them (e.g. `/proc`), or as host
/// paths for sources. The errno is kept as a value so callers can match on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable; nothing was touched.
    #[error("rootfs config: {}: {reason}", path.display())]
    Invalid {
        /// The offending path.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A host path named in the configuration cannot be used.
    #[error("rootfs: {step} {}: {errno}", path.display())]
    HostPath {
        /// e.g. "open root directory", "open bind source".
        step: &'static str,
        /// The host path.
        path: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
    /// `mount(2)` or `mount_setattr(2)` failed.
    #[error("rootfs: {step}: {}: {errno}", describe_mount(src, target))]
    Mount {
        /// e.g. "mount proc", "bind /dev/null over masked path".
        step: &'static str,
        /// The mount source, when it is a path.
        src: Option<PathBuf>,
        /// The mount point.
        target: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
    /// A file-system operation (mkdir, open, symlink, mknod, stat, chdir…)
    /// failed.
    #[error("rootfs: {step} {}: {errno}", path.display())]
    Fs {
        /// e.g. "mkdir", "create device node", "chdir".
        step: &'static str,
        /// The path operated on.
        path: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
    /// `pivot_root(2)` failed.
    #[error("rootfs: pivot_root({}, {}): {errno}", new_root.display(), put_old.display())]
    PivotRoot {
        /// The new root.
        new_root: PathBuf,
        /// Where the old root was to go.
        put_old: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
    /// `umount2(2)` failed.
    #[error("rootfs: {step} {}: {errno}", path.display())]
    Unmount {
        /// e.g. "detach old root".
        step: &'static str,
        /// The mount point.
        path: PathBuf,
        /// What the kernel said.
        errno: Errno,
    },
    /// The root directory is the host's own `/` (by path, symlink or bind
    /// mount): the container would write to the host's files.
    #[error(
        "rootfs: {} is the host's root directory, which the container could change; \
         use Root::Host (rootfs = \"host\" in box.toml) for a read-only view of this host",
        path.display()
    )]
    HostRoot {
        /// The root directory as configured.
        path: PathBuf,
    },
    /// `/proc`, `/sys` or `/dev` in the container's root is not a directory
    /// (a symlink, a file…); box mounts there only on a real directory.
    #[error(
        "rootfs: {} in the container's root is {found}; it must be a directory \
         (box does not follow links there)",
        path.display()
    )]
    NotADirectory {
        /// The path inside the container.
        path: PathBuf,
        /// What is there instead, e.g. "a symlink (to /)".
        found: String,
    },
    /// After `pivot_root`, `/proc` (or `/sys`, `/dev`) no longer leads to the
    /// filesystem box mounted there: the root was changed during the start,
    /// e.g. by another container that can write it.
    #[error(
        "rootfs: {} is no longer the {fs} box mounted there: the container's root \
         changed while it was starting (is it shared with another container?)",
        path.display()
    )]
    Replaced {
        /// The path inside the container.
        path: PathBuf,
        /// The filesystem box mounted there, e.g. "procfs".
        fs: &'static str,
    },
    /// The caller's step before the root is entered failed (its own message).
    #[error("rootfs: before entering the root: {message}")]
    BeforeEntering { message: String },
    /// What ran before the root's `/sys/fs/cgroup` was mounted failed.
    #[error("rootfs: before mounting /sys/fs/cgroup: {message}")]
    BeforeCgroupfs { message: String },
    /// Mounting the overlay root failed at `step` (an `fsconfig` of one of its parameters,
    /// `fsmount`...).
    #[error("rootfs: overlay root: {step}: {errno}")]
    Overlay {
        /// e.g. "fsconfig lowerdir+".
        step: &'static str,
        /// What the kernel said.
        errno: Errno,
    },
    /// A kernel before 6.8 takes an overlay's layers as one option string, which must fit in
    /// a page.
    #[error(
        "rootfs: overlay root: the paths of {layers} layers take {bytes} bytes of mount \
         options, more than the 4095 this kernel takes (Linux 6.8 adds layers one at a time)"
    )]
    OverlayOptions {
        /// How many layers.
        layers: usize,
        /// The option string's length.
        bytes: usize,
    },
    /// The process's working directory could not be made (or is not a directory): the error
    /// of the step that failed, kept apart so that callers can report it as the workdir's.
    #[error("rootfs: workdir {}: {source}", path.display())]
    Workdir {
        /// The workdir inside the container.
        path: PathBuf,
        /// What failed.
        source: Box<Error>,
    },
    /// A mount target inside the container root cannot be resolved safely.
    #[error("rootfs: resolve {} inside the container root: {reason}", path.display())]
    Resolve {
        /// The target as configured.
        path: PathBuf,
        /// Why it was refused (e.g. too many symlinks).
        reason: String,
    },
}

impl Error {
    /// The errno behind this error, if the kernel produced one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::HostPath { errno, .. }
            | Error::Mount { errno, .. }
            | Error::Fs { errno, .. }
            | Error::PivotRoot { errno, .. }
            | Error::Unmount { errno, .. }
            | Error::Overlay { errno, .. } => Some(*errno),
            Error::Workdir { source, .. } => source.errno(),
            Error::Invalid { .. }
            | Error::BeforeEntering { .. }
            | Error::BeforeCgroupfs { .. }
            | Error::Resolve { .. }
            | Error::HostRoot { .. }
            | Error::NotADirectory { .. }
            | Error::Replaced { .. }
            | Error::OverlayOptions { .. } => None,
        }
    }
}

fn describe_mount(src: &Option<PathBuf>, target: &std::path::Path) -> String {
    match src {
        Some(src) => format!("mount {} on {}", src.display(), target.display()),
        None => format!("mount on {}", target.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_step_path_and_errno() {
        let e = Error::Mount {
            step: "mount proc",
            src: None,
            target: "/proc".into(),
            errno: Errno::EPERM,
        };
        let msg = e.to_string();
        assert!(
            msg.contains("mount proc") && msg.contains("/proc") && msg.contains("EPERM"),
            "{msg}"
        );
        assert_eq!(e.errno(), Some(Errno::EPERM));
        let e = Error::PivotRoot {
            new_root: ".".into(),
            put_old: ".".into(),
            errno: Errno::EINVAL,
        };
        assert!(e.to_string().contains("pivot_root(., .)"));
    }
}
