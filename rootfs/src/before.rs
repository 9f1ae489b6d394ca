//! A caller's step between building the root and entering it (OCI's `createContainer`
//! hooks): it runs in the container's mount namespace while the host's tree is still
//! reachable, at `/oldroot`. For the step's duration a `Root::Dir` root, with every mount
//! box made in it, is also shown at its host path in that tree, where a runtime that builds
//! the root in place (runc) has it; it is detached again before the root is entered.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

use crate::sys::{self, HOST_PROC};
use crate::{Error, Root, RootfsConfig};

/// What the step is given.
pub struct HostView<'a> {
    /// Where the host's root is reachable in this mount namespace.
    pub root: &'a Path,
    /// This process's pid as the host sees it.
    pub pid: i32,
}

/// The step; its error message fails the setup.
pub type BeforeEntering<'a> = &'a mut dyn FnMut(&HostView<'_>) -> Result<(), String>;

pub(crate) fn run(cfg: &RootfsConfig, newroot: &Path, step: BeforeEntering) -> Result<(), Error> {
    let self_link = Path::new(HOST_PROC).join("self");
    let pid = std::fs::read_link(&self_link)
        .ok()
        .and_then(|p| p.to_str()?.parse().ok())
        .ok_or(Error::Invalid {
            path: "/proc/self".into(),
            reason: "the host's /proc does not name this process",
        })?;
    let oldroot = Path::new("/oldroot");
    let shown: Option<PathBuf> = match &cfg.root {
        Root::Dir(dir) => dir.strip_prefix("/").ok().map(|rel| oldroot.join(rel)),
        Root::Overlay(_) | Root::Host => None,
    };
    if let Some(at) = &shown {
        // The path is the caller's (the bundle's), not the container's: nothing in it is
        // the container's to change before it runs.
        let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
        sys::mount("show root", Some(newroot), at, at, None, flags, None)?;
    }
    let result = step(&HostView { root: oldroot, pid });
    if let Some(at) = &shown {
        nix::mount::umount2(at, MntFlags::MNT_DETACH).map_err(|errno| Error::Unmount {
            step: "hide root shown at its host path",
            path: at.clone(),
            errno,
        })?;
    }
    result.map_err(|message| Error::BeforeEntering { message })
}
