//! The open roots of a layout's hierarchies.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::fs::{Dir, Expected, Root};

/// What each mount point of a layout read from mountinfo must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Expectations(pub BTreeMap<PathBuf, Expected>);

/// Each hierarchy's root, open, by mount point. Cheap to clone: the fds are shared.
#[derive(Debug, Clone)]
pub(crate) struct Roots(Arc<BTreeMap<PathBuf, Arc<Root>>>);

impl Roots {
    /// Open `mounts`: checked against `expected` (a layout from mountinfo), or as given.
    pub(crate) fn open(mounts: &[&Path], expected: Option<&Expectations>) -> Result<Roots, Error> {
        let mut out = BTreeMap::new();
        // One `/` for every root read from mountinfo.
        let slash = match expected {
            Some(_) => Some(crate::fs::open_slash().map_err(|errno| Error::OpenRoot {
                path: PathBuf::from("/"),
                errno,
            })?),
            None => None,
        };
        for &mount in mounts {
            let root = match (expected, &slash) {
                (Some(map), Some(slash)) => match map.0.get(mount) {
                    Some(&e) => Root::open_verified_in(slash.as_fd(), mount, e)?,
                    None => {
                        return Err(Error::NotCgroupfs {
                            path: mount.to_path_buf(),
                            reason: "not among the mounts the layout read from mountinfo"
                                .to_string(),
                        })
                    }
                },
                _ => Root::open_given(mount)?,
            };
            out.insert(mount.to_path_buf(), Arc::new(root));
        }
        Ok(Roots(Arc::new(out)))
    }

    /// The root directory of the hierarchy mounted at `mount`.
    pub(crate) fn dir(&self, mount: &Path) -> Result<Dir, Error> {
        match self.0.get(mount) {
            Some(root) => Ok(Dir::root(root)),
            None => Err(Error::OpenRoot {
                path: mount.to_path_buf(),
                errno: nix::errno::Errno::ENOENT,
            }),
        }
    }
}
