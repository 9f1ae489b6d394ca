//! Handles on cgroups that exist already: read-only views for other processes, and claims
//! on orphans by a sweep.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::lock::{self, Attempt};
use super::{create, Cgroup, Part, V1Dir, V2Dir};
use crate::error::Error;
use crate::fs;
use crate::layout::{Layout, Roots};

impl Cgroup {
    /// A handle with no directory yet.
    fn empty(layout: &Layout, rel: PathBuf, owner: bool) -> Cgroup {
        Cgroup {
            layout: layout.clone(),
            rel,
            v1: OnceLock::new(),
            v2: None,
            owner,
        }
    }

    /// Open the existing cgroup `path` (e.g. for `box stats` from another process). Takes
    /// the directories that exist; fails if there is none. The handle does not own the
    /// cgroup (it takes no lock).
    pub fn open(layout: &Layout, path: &Path) -> Result<Cgroup, Error> {
        let mut cg = Cgroup::empty(layout, create::normalize(path)?, false);
        let roots = layout.roots()?;
        let mut v1 = Vec::new();
        for (mount, controllers) in layout.v1_hierarchies() {
            let dir = roots.dir(mount)?.join(&cg.rel)?;
            if fs::is_dir(&dir) {
                v1.push(V1Dir {
                    controllers,
                    dir,
                    lock: None,
                });
            }
        }
        cg.v1 = OnceLock::from(v1);
        if let Some(mount) = layout.v2_root() {
            let dir = roots.dir(mount)?.join(&cg.rel)?;
            if fs::is_dir(&dir) {
                let fd = fs::open_dir(&dir).map_err(|errno| Error::OpenDir {
                    path: dir.path().to_path_buf(),
                    errno,
                })?;
                cg.v2 = Some(V2Dir { dir, fd });
            }
        }
        if cg.v1().is_empty() && cg.v2.is_none() {
            return Err(Error::NotFound { path: cg.rel });
        }
        Ok(cg)
    }

    /// Take ownership of the existing cgroup `path` on the hierarchies of `part` if nobody
    /// owns it: lock every directory of it without waiting. `Ok(None)` if one of them is
    /// locked (its creator is alive, or another sweeper got there first) or none exists.
    pub(crate) fn claim(
        layout: &Layout,
        roots: &Roots,
        path: &Path,
        part: Part,
    ) -> Result<Option<Cgroup>, Error> {
        let mut cg = Cgroup::empty(layout, create::normalize(path)?, true);
        let mut v1 = Vec::new();
        let v1_hierarchies = layout.v1_hierarchies();
        for (mount, controllers) in v1_hierarchies.into_iter().filter(|_| part.has_v1()) {
            let dir = roots.dir(mount)?.join(&cg.rel)?;
            match lock::try_exclusive(&dir)? {
                Attempt::Got(fd) => v1.push(V1Dir {
                    controllers,
                    dir,
                    lock: Some(fd),
                }),
                Attempt::Busy => return Ok(None),
                Attempt::Gone => {}
            }
        }
        cg.v1 = OnceLock::from(v1);
        if let Some(mount) = layout.v2_root().filter(|_| part.has_unified()) {
            let dir = roots.dir(mount)?.join(&cg.rel)?;
            match lock::try_exclusive(&dir)? {
                Attempt::Got(fd) => cg.v2 = Some(V2Dir { dir, fd }),
                Attempt::Busy => return Ok(None),
                Attempt::Gone => {}
            }
        }
        if cg.v1().is_empty() && cg.v2.is_none() {
            return Ok(None);
        }
        Ok(Some(cg))
    }
}
