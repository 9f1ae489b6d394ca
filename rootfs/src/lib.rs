//! box-rootfs: the container's root filesystem.
//!
//! Inside a fresh mount namespace, [`setup`] builds the container's `/`
//! (a directory tree, or a read-only view of the host's system directories),
//! mounts `/proc`, `/sys` and a minimal `/dev`, applies user bind and tmpfs
//! mounts, masks and write-protects sensitive paths, then `pivot_root`s into
//! it and detaches the host's tree. The host's mounts and files are never
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
//! use box_rootfs::{check, setup, Mount, MountKind, RootfsConfig};
//!
//! let cfg = RootfsConfig {
//!     mounts: vec![Mount {
//!         target: "/data".into(),
//!         kind: MountKind::Bind { source: "/srv/data".into(), readonly: true },
//!     }],
//!     ..RootfsConfig::default() // Root::Host, Docker's masked and read-only paths
//! };
//! check(&cfg)?; // parent, before clone
//! // ... clone(CLONE_NEWNS | CLONE_NEWPID | ...) ...
//! setup(&cfg)?; // child: now inside the new root, cwd = "/"
//! // ... drop privileges, execve ...
//! # Ok::<(), box_rootfs::Error>(())
//! ```

mod beneath;
mod config;
mod dev;
mod device;
mod error;
mod finish;
mod host;
mod mountapi;
mod pinned;
mod prepared;
mod protect;
mod resolve;
mod setup;
mod sys;
#[cfg(test)]
mod testutil;
mod validate;
mod workdir;

use std::path::Path;

use nix::mount::MsFlags;

pub use config::{
    Mount, MountKind, Propagation, Root, RootfsConfig, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS,
};
pub use device::{Device, DeviceType};
pub use error::Error;
pub use prepared::{prepare, Prepared};
pub use setup::setup;
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
