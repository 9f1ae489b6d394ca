//! Handles on cgroups that exist already: read-only views for other processes, and claims
//! on orphans by a sweep.

use std::path::{Path, PathBuf};

use super::{create, lock, Cgroup, V1Dir, V2Dir};
use crate::error::Error;
use crate::layout::Layout;

impl Cgroup {
    /// A handle with no directory yet.
    fn empty(layout: &Layout, rel: PathBuf, owner: bool) -> Cgroup {
        Cgroup {
            layout: layout.clone(),
            rel,
            v1: Vec::new(),
            v2: None,
            owner,
        }
    }

    /// Open the existing cgroup `path` (e.g. for `box stats` from another process). Takes
    /// the directories that exist; fails if there is none. The handle does not own the
    /// cgroup (it takes no lock).
    pub fn open(layout: &Layout, path: &Path) -> Result<Cgroup, Error> {
        let mut cg = Cgroup::empty(layout, create::normalize(path)?, false);
        for (mount, controllers) in layout.v1_hierarchies() {
            let dir = mount.join(&cg.rel);
            if dir.is_dir() {
                let mount = mount.to_path_buf();
                cg.v1.push(V1Dir {
                    mount,
                    controllers,
                    dir,
                    _lock: None,
                });
            }
        }
        if let Some(root) = layout.v2_root() {
            let dir = root.join(&cg.rel);
            if dir.is_dir() {
                let fd = create::open_dir(&dir)?;
                let mount = root.to_path_buf();
                cg.v2 = Some(V2Dir { mount, dir, fd });
            }
        }
        if cg.v1.is_empty() && cg.v2.is_none() {
            return Err(Error::NotFound { path: cg.rel });
        }
        Ok(cg)
    }

    /// Take ownership of the existing cgroup `path` if nobody owns it: lock every directory
    /// of it without waiting. `Ok(None)` if one of them is locked (its creator is alive, or
    /// another sweeper got there first) or none exists.
    pub(crate) fn claim(layout: &Layout, path: &Path) -> Result<Option<Cgroup>, Error> {
        let mut cg = Cgroup::empty(layout, create::normalize(path)?, true);
        for (mount, controllers) in layout.v1_hierarchies() {
            let dir = mount.join(&cg.rel);
            if !dir.exists() {
                continue;
            }
            match lock::try_claim(&dir)? {
                Some(fd) => cg.v1.push(V1Dir {
                    mount: mount.to_path_buf(),
                    controllers,
                    dir,
                    _lock: Some(fd),
                }),
                None if dir.exists() => return Ok(None),
                None => {}
            }
        }
        if let Some(root) = layout.v2_root() {
            let dir = root.join(&cg.rel);
            if dir.exists() {
                match lock::try_claim(&dir)? {
                    Some(fd) => {
                        let mount = root.to_path_buf();
                        cg.v2 = Some(V2Dir { mount, dir, fd });
                    }
                    None if dir.exists() => return Ok(None),
                    None => {}
                }
            }
        }
        if cg.v1.is_empty() && cg.v2.is_none() {
            return Ok(None);
        }
        Ok(Some(cg))
    }
}
