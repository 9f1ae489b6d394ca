//! box-rootfs: the container's root filesystem.
//!
//! Inside a fresh mount namespace, [`setup`] builds the container's `/`
//! (a directory tree, or a read-only view of the host's system directories),
//! makes its list of [`Mount`]s in order (Docker's `/proc`, `/sys` and minimal
//! `/dev` by default, [`default_mounts`], then the user's binds and tmpfs),
//! masks and write-protects sensitive paths, then `pivot_root`s into it and
//! detaches the host's tree. The host's mounts and files are never
//! modified: the staging area is a tmpfs over `/tmp` in the new namespace
//! only (bubblewrap's technique), and every mount target inside the new root
//! is resolved by fd without following symlinks out of it. `/proc`, `/sys`
//! and `/dev` must be real directories of the root; the masks go through
//! handles on the mounts there, so a root that someone else can rename
//! entries of cannot make them miss.
//!
//! Typical use, in a child created with `CLONE_NEWNS | CLONE_NEWPID`:
//!
//! ```no_run
//! use box_rootfs::{check, setup, Mount, RootfsConfig};
//!
//! // Root::Host, Docker's mounts, masked and read-only paths
//! let mut cfg = RootfsConfig::default();
//! cfg.mounts.push(Mount::bind("/srv/data", "/data", true));
//! // Or in OCI's words:
//! cfg.mounts.push(Mount::parse("/cache", Some("tmpfs"), None, &["nosuid", "size=64m"])?);
//! check(&cfg)?; // parent, before clone
//! // ... clone(CLONE_NEWNS | CLONE_NEWPID | ...) ...
//! setup(&cfg)?; // child: now inside the new root, cwd = "/"
//! // ... drop privileges, execve ...
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod attrs;
mod before;
mod beneath;
mod cgroupfs;
mod config;
mod dev;
mod device;
mod error;
mod finish;
mod fstype;
mod host;
mod mount;
mod mountapi;
mod mounts;
mod nopivot;
mod options;
mod overlay;
mod pinned;
mod prepared;
mod protect;
mod resolve;
mod setattr;
mod setup;
mod sys;
#[cfg(test)]
mod testutil;
mod validate;
mod workdir;

use std::path::Path;

use nix::mount::MsFlags;

pub use before::{BeforeEntering, HostView};
pub use cgroupfs::{bind_of_directory, view_tree, CgroupFs, CgroupHierarchy, CgroupView, CGROUPFS};
pub use config::{Propagation, Root, RootfsConfig, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS};
pub use device::{Device, DeviceType};
pub use error::Error;
pub use mount::{default_mounts, FsType, Mount, MountType};
pub use options::{
    MountError, MountFlags, MountOptions, MountPropagation, PropagationType, ReadOnly,
};
pub use overlay::{Overlay, OverlayDirs, MAX_LAYERS};
pub use prepared::{prepare, Prepared};
pub use setup::{setup, setup_before, setup_with, setup_with_workdir, BeforeCgroupfs};
pub use validate::check;
pub use workdir::Workdir;

/// Compiles the README's example as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Binds a pty slave (e.g. `/dev/pts/0` of the container's devpts) over
/// `/dev/console`. Call after [`setup`] with `console: true`, which created
/// the empty `/dev/console` file that serves as the mount point.
pub fn bind_console(pty_slave: &Path) -> Result<(), Error> {
    let console = Path::new("/dev/console");
    sys::mount(
        "bind console",
        Some(pty_slave),
        console,
        console,
        None,
        MsFlags::MS_BIND,
        None,
    )
}
