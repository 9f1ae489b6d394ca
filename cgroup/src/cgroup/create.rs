//! Making a container's directories: parents first (v1 cpusets filled, v2 controllers
//! enabled for their children), then the container's own directory.

use std::collections::BTreeSet;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use nix::errno::Errno;

use super::lock::{self, Fresh};
use super::{wanted, Cgroup, Part, V1Dir, V2Dir};
use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::{Controller, Layout, Roots};
use crate::resources::Resources;
use crate::v1;

/// How often to start over when a directory vanishes under us: another process pruning an
/// empty parent between our steps (each time, someone else removed it).
const ATTEMPTS: usize = 50;

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

impl Cgroup {
    /// Create the directories on the hierarchies of `part` (limits are written afterwards).
    /// The v1 ones come first: a sweep finds a cgroup whose creator died half-way on the first
    /// or the last hierarchy (see [`super::sweep_orphans`]), and one made unified-first has
    /// the last at once.
    pub(super) fn make_dirs(&mut self, res: &Resources, part: Part) -> Result<(), Error> {
        let layout = self.layout.clone();
        let roots = layout.roots()?;
        if part.has_v1() {
            let mut made = Vec::new();
            let result = make_v1_dirs(&layout, &roots, &self.rel, res, &mut made);
            // What was made before a failure is removed with the rest.
            self.v1 = OnceLock::from(made);
            result?;
        }
        if let Some(mount) = layout.v2_root().filter(|_| part.has_unified()) {
            let root = roots.dir(mount)?;
            let needed: BTreeSet<Controller> = layout
                .v2_controllers()
                .iter()
                .copied()
                .filter(|c| ALWAYS_V2.contains(c) || wanted(*c, res))
                .collect();
            if !needed.is_empty() {
                enable_controllers(&root, &needed)?;
            }
            let (dir, fd) = make_leaf(&root, &self.rel, |_, dir, is_leaf| {
                if !is_leaf && !needed.is_empty() {
                    enable_controllers(dir, &needed)?;
                }
                Ok(())
            })?;
            self.v2 = Some(V2Dir { dir, fd });
        }
        Ok(())
    }
}

/// The container's directory `rel` on every v1 hierarchy of `layout`, each pushed on `made`
/// as soon as it is there.
fn make_v1_dirs(
    layout: &Layout,
    roots: &Roots,
    rel: &Path,
    res: &Resources,
    made: &mut Vec<V1Dir>,
) -> Result<(), Error> {
    for (mount, controllers) in layout.v1_hierarchies() {
        let cpuset = controllers.contains(&Controller::Cpuset);
        let root = roots.dir(mount)?;
        // Each directory's values, read or written as `make_leaf` goes down, are the next
        // one's parent's: read once.
        let mut above: Option<(PathBuf, v1::Placement)> = None;
        let (dir, lock) = make_leaf(&root, rel, |parent, dir, is_leaf| {
            // A new v1 cpuset has no CPUs or memory nodes; no process could join it.
            if cpuset {
                let known = above.as_ref().filter(|(p, _)| p == parent.path());
                let own = v1::cpuset_inherit(
                    parent,
                    dir,
                    known.map(|(_, values)| values),
                    is_leaf,
                    is_leaf.then_some(res),
                )?;
                above = Some((dir.path().to_path_buf(), own));
            }
            Ok(())
        })?;
        made.push(V1Dir {
            controllers,
            dir,
            lock: Some(lock),
        });
    }
    Ok(())
}

/// mkdir each missing ancestor of `root/rel`, then `root/rel` itself, which must not exist,
/// and lock it (returning the locked fd) before anything is written to it. From before that
/// mkdir until the lock is taken, the parent is held shared so that no sweep lists it in
/// between (see [`lock`]). `prepare(parent, dir, is_leaf)` runs on each directory right after
/// it is made (or found).
fn make_leaf(
    root: &Dir,
    rel: &Path,
    mut prepare: impl FnMut(&Dir, &Dir, bool) -> Result<(), Error>,
) -> Result<(Dir, OwnedFd), Error> {
    let names: Vec<_> = rel.iter().collect();
    let Some((leaf_name, ancestors)) = names.split_last() else {
        return Err(Error::InvalidPath {
            path: rel.to_path_buf(),
            reason: "no directory to create",
        });
    };
    let mkdir_err = |dir: &Dir, errno| Error::Mkdir {
        path: dir.path().to_path_buf(),
        errno,
    };
    let mut attempt = 0;
    'again: loop {
        attempt += 1;
        let retry = attempt < ATTEMPTS;
        // Usually every ancestor is there already: hold the parent first, and make the
        // ancestors only when it is missing.
        let mut held = None;
        if attempt == 1 {
            let mut parent = root.clone();
            for name in ancestors {
                parent = parent.join(name)?;
            }
            held = lock::hold_parent(&parent)?;
        }
        let mut parent = root.clone();
        for name in ancestors {
            let dir = parent.join(name)?;
            if held.is_none() {
                match fs::mkdir(&dir) {
                    Ok(_) => {}
                    Err(Errno::ENOENT | Errno::ENODEV) if retry => continue 'again,
                    Err(errno) => return Err(mkdir_err(&dir, errno)),
                }
            }
            match prepare(&parent, &dir, false) {
                Ok(()) => {}
                Err(e) if vanished(&e) && retry => continue 'again,
                Err(e) => return Err(e),
            }
            parent = dir;
        }
        let leaf = parent.join(leaf_name)?;
        let held = match held {
            Some(held) => held,
            None => match lock::hold_parent(&parent)? {
                Some(held) => held,
                None if retry => continue 'again,
                None => return Err(mkdir_err(&leaf, Errno::ENOENT)),
            },
        };
        match fs::mkdir_in(held.as_fd(), &leaf) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::Exists {
                    path: leaf.path().to_path_buf(),
                })
            }
            Err(Errno::ENOENT | Errno::ENODEV) if retry => continue 'again,
            Err(errno) => return Err(mkdir_err(&leaf, errno)),
        }
        let fd = match lock::lock_fresh(held.as_fd(), &leaf) {
            Ok(Fresh::Locked(fd)) => fd,
            Ok(Fresh::Vanished) if retry => continue 'again,
            Ok(Fresh::Vanished) => return Err(mkdir_err(&leaf, Errno::ENOENT)),
            // Exists: another process claims the same name; the directory is not ours.
            Err(e @ Error::Exists { .. }) => return Err(e),
            Err(e) => {
                let _ = fs::rmdir(&leaf);
                return Err(e);
            }
        };
        drop(held);
        if let Err(e) = prepare(&parent, &leaf, true) {
            let _ = fs::rmdir(&leaf);
            return Err(e);
        }
        return Ok((leaf, fd));
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
fn enable_controllers(dir: &Dir, needed: &BTreeSet<Controller>) -> Result<(), Error> {
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
