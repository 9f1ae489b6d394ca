//! Making a container's directories: parents first (v1 cpusets filled, v2 controllers
//! enabled for their children), then the container's own directory.

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use super::{lock, wanted, Cgroup, V1Dir, V2Dir};
use crate::error::Error;
use crate::fs;
use crate::layout::Controller;
use crate::resources::Resources;
use crate::v1;

/// How often to start over when a parent vanishes under us: another box removing its empty
/// `box/` between our mkdirs.
const ATTEMPTS: usize = 5;

/// v2 controllers enabled for every container when the host offers them: memory for usage
/// and OOM events, pids for the task count. Others only when a limit needs them.
const ALWAYS_V2: [Controller; 2] = [Controller::Memory, Controller::Pids];

/// A cgroup path relative to the hierarchy roots: a leading `/` is allowed, `.`/`..` not.
pub(super) fn normalize(path: &Path) -> Result<PathBuf, Error> {
    let invalid = |reason| Error::InvalidPath {
        path: path.to_path_buf(),
        reason,
    };
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(name) => out.push(name),
            _ => return Err(invalid("only plain names allowed, no '.' or '..'")),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(invalid("the root cgroup cannot be a container's"));
    }
    Ok(out)
}

pub(super) fn open_dir(dir: &Path) -> Result<OwnedFd, Error> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    open(dir, flags, Mode::empty()).map_err(|errno| Error::OpenDir {
        path: dir.to_path_buf(),
        errno,
    })
}

impl Cgroup {
    /// Create the directories on every hierarchy (limits are written afterwards).
    pub(super) fn make_dirs(&mut self, res: &Resources) -> Result<(), Error> {
        let layout = self.layout.clone();
        for (mount, controllers) in layout.v1_hierarchies() {
            let cpuset = controllers.contains(&Controller::Cpuset);
            let (dir, lock) = make_leaf(mount, &self.rel, |parent, dir, is_leaf| {
                // A new v1 cpuset has no CPUs or memory nodes; no process could join it.
                if cpuset {
                    v1::cpuset_inherit(parent, dir, is_leaf.then_some(res))?;
                }
                Ok(())
            })?;
            let mount = mount.to_path_buf();
            self.v1.push(V1Dir {
                mount,
                controllers,
                dir,
                _lock: Some(lock),
            });
        }
        if let Some(root) = layout.v2_root() {
            let needed: BTreeSet<Controller> = layout
                .v2_controllers()
                .iter()
                .copied()
                .filter(|c| ALWAYS_V2.contains(c) || wanted(*c, res))
                .collect();
            if !needed.is_empty() {
                enable_controllers(root, &needed)?;
            }
            let (dir, fd) = make_leaf(root, &self.rel, |_, dir, is_leaf| {
                if !is_leaf && !needed.is_empty() {
                    enable_controllers(dir, &needed)?;
                }
                Ok(())
            })?;
            let mount = root.to_path_buf();
            self.v2 = Some(V2Dir { mount, dir, fd });
        }
        Ok(())
    }
}

/// mkdir each missing ancestor of `mount/rel`, then `mount/rel` itself, which must not exist,
/// and lock it (returning the locked fd) before anything is written to it.
/// `prepare(parent, dir, is_leaf)` runs on each directory right after it is made (or found).
fn make_leaf(
    mount: &Path,
    rel: &Path,
    mut prepare: impl FnMut(&Path, &Path, bool) -> Result<(), Error>,
) -> Result<(PathBuf, OwnedFd), Error> {
    let names: Vec<_> = rel.iter().collect();
    let leaf = mount.join(rel);
    let mut attempt = 0;
    let mut owned = None;
    'again: loop {
        attempt += 1;
        let mut parent = mount.to_path_buf();
        for (i, name) in names.iter().enumerate() {
            let dir = parent.join(name);
            let is_leaf = i + 1 == names.len();
            match fs::mkdir(&dir) {
                Ok(true) => {}
                Ok(false) if is_leaf => return Err(Error::Exists { path: dir }),
                Ok(false) => {}
                Err(Errno::ENOENT) if attempt < ATTEMPTS => continue 'again,
                Err(errno) => return Err(Error::Mkdir { path: dir, errno }),
            }
            if is_leaf {
                match lock::own(&dir) {
                    Ok(Some(fd)) => owned = Some(fd),
                    // A sweeper took it for an orphan between mkdir and lock, and removed it.
                    Ok(None) if attempt < ATTEMPTS => continue 'again,
                    Ok(None) => {
                        let errno = Errno::ENOENT;
                        return Err(Error::Lock { path: dir, errno });
                    }
                    Err(e) => {
                        let _ = fs::rmdir(&dir);
                        return Err(e);
                    }
                }
            }
            match prepare(&parent, &dir, is_leaf) {
                Ok(()) => {}
                Err(e) if is_leaf => {
                    let _ = fs::rmdir(&dir);
                    return Err(e);
                }
                Err(e) if vanished(&e) && attempt < ATTEMPTS => continue 'again,
                Err(e) => return Err(e),
            }
            parent = dir;
        }
        return match owned {
            Some(fd) => Ok((leaf, fd)),
            None => Err(Error::InvalidPath {
                path: rel.to_path_buf(),
                reason: "no directory to create",
            }),
        };
    }
}

/// An error that means a directory disappeared while we worked in it.
fn vanished(e: &Error) -> bool {
    matches!(
        e,
        Error::Read {
            errno: Errno::ENOENT | Errno::ENODEV,
            ..
        } | Error::Write {
            errno: Errno::ENOENT | Errno::ENODEV,
            ..
        }
    )
}

/// Add to `dir/cgroup.subtree_control` those of `needed` that are not there yet.
fn enable_controllers(dir: &Path, needed: &BTreeSet<Controller>) -> Result<(), Error> {
    let current = fs::read(dir, "cgroup.subtree_control")?;
    let have: BTreeSet<_> = current.split_whitespace().collect();
    let add: Vec<String> = needed
        .iter()
        .filter_map(|c| c.v2_name())
        .filter(|n| !have.contains(n))
        .map(|n| format!("+{n}"))
        .collect();
    if add.is_empty() {
        return Ok(());
    }
    fs::write(dir, "cgroup.subtree_control", &add.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize(Path::new("box/web")).unwrap(),
            PathBuf::from("box/web")
        );
        assert_eq!(
            normalize(Path::new("/box/web/")).unwrap(),
            PathBuf::from("box/web")
        );
        for bad in ["", "/", "box/../etc", "./box", ".."] {
            assert!(normalize(Path::new(bad)).is_err(), "{bad:?}");
        }
    }
}
