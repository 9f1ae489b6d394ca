//! The root filesystem layer's part in starting a container, in the shape every box layer
//! has: [`prepare`] in the parent before the clone ([`check`]: the root and bind sources exist,
//! the root is not the host's `/`, every container path is sound), [`Prepared::create`] for
//! what an overlay root needs on the host, then [`Prepared::apply`] in the child, in its new
//! mount namespace ([`setup_with`]).

use std::os::fd::OwnedFd;
use std::path::Path;

use crate::{
    check, setup_before, setup_with, BeforeCgroupfs, BeforeEntering, Error, OverlayDirs, Root,
    RootfsConfig,
};

/// Checks `cfg` before anything exists; nothing is created.
pub fn prepare(cfg: &RootfsConfig) -> Result<Prepared, Error> {
    check(cfg)?;
    Ok(Prepared(cfg.clone()))
}

/// A root filesystem ready to be built.
#[derive(Debug, Clone)]
pub struct Prepared(RootfsConfig);

impl Prepared {
    /// Child, in its own mount namespace: builds the root (on `overlay`, an overlay root's
    /// mount made by box already, when given), makes the process's `workdir` where the root
    /// lacks it, and moves into it ([`setup_with`]).
    pub fn apply(&self, workdir: Option<&Path>, overlay: Option<OwnedFd>) -> Result<(), Error> {
        setup_with(&self.0, workdir, overlay)
    }

    /// The overlay an overlay root is made of.
    pub fn overlay(&self) -> Option<&crate::Overlay> {
        match &self.0.root {
            Root::Overlay(o) => Some(o),
            Root::Dir(_) | Root::Host => None,
        }
    }

    /// [`Prepared::apply`], with `before` run between building the root and entering it
    /// ([`crate::setup_before`]).
    pub fn apply_before(
        &self,
        workdir: Option<&Path>,
        overlay: Option<OwnedFd>,
        before: BeforeEntering,
    ) -> Result<(), Error> {
        setup_before(&self.0, workdir, overlay, Some(before))
    }

    /// Parent, before the clone: what the root needs on the host. An overlay root's upper
    /// and work directories (fresh); nothing for the other roots. The caller removes them
    /// ([`OverlayDirs::remove`]) when the container ends or its start fails.
    pub fn create(&self) -> Result<Option<OverlayDirs>, Error> {
        match &self.0.root {
            Root::Overlay(o) => OverlayDirs::create(o).map(Some),
            Root::Dir(_) | Root::Host => Ok(None),
        }
    }

    /// Whether [`Prepared::apply_cgroupfs_last`] may build this root: it has a
    /// `/sys/fs/cgroup` and nothing else of it is at or under that path.
    pub fn cgroupfs_may_come_last(&self) -> bool {
        crate::setup::cgroupfs_may_come_last(&self.0)
    }

    /// [`Prepared::apply`], with the root's `/sys/fs/cgroup` mounted after everything else
    /// (once the root is entered, where the kernel has the new mount API), and
    /// [`BeforeCgroupfs::before`] run before: a process that must enter its cgroups and
    /// unshare its cgroup namespace before that mount (which shows the namespace's cgroups)
    /// does so there, late; [`BeforeCgroupfs::view`] may hand a view made of its cgroup
    /// directories to mount instead of fresh hierarchies. Refused unless
    /// [`Prepared::cgroupfs_may_come_last`].
    pub fn apply_cgroupfs_last(
        &self,
        workdir: Option<&Path>,
        overlay: Option<OwnedFd>,
        before: &mut dyn BeforeCgroupfs,
    ) -> Result<(), Error> {
        crate::setup::build(&self.0, workdir, overlay, None, Some(before))
    }

    /// The configuration it was prepared from.
    pub fn config(&self) -> &RootfsConfig {
        &self.0
    }
}
