//! Docker's `/sys/fs/cgroup`: the container's own cgroups, read-only, as its cgroup namespace
//! shows them (each hierarchy's root is the cgroup the container was in when it unshared
//! that namespace: its own). JVMs, Go's and .NET's runtimes and `nproc`-aware tools read their
//! limits there.
//!
//! - On a pure cgroup v2 host: one cgroup2 mount, read-only.
//! - On a v1 or hybrid host (runc's layout): a tmpfs, with each v1 hierarchy mounted
//!   read-only at its host name (`memory`, `cpu,cpuacct`), a symlink per controller of a
//!   co-mounted hierarchy (`cpu -> cpu,cpuacct`), the cgroup2 hierarchy (`unified`) if the
//!   host has one; then the tmpfs itself is made read-only.
//!
//! Which layout the host has is the caller's knowledge (the cgroup layer's): this module
//! mounts what [`CgroupFs`] lists, beneath box's own `/sys`, following no symlink.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::{fstat, Mode};
use serde::{Deserialize, Serialize};

use crate::beneath::{self, open_beneath};
use crate::resolve::Create;
use crate::sys::{self, fd_path_in};
use crate::{mountapi, Error};

/// Where, inside the container.
pub const CGROUPFS: &str = "/sys/fs/cgroup";

/// What to mount at `/sys/fs/cgroup` ([`RootfsConfig::cgroupfs`](crate::RootfsConfig)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupFs {
    /// Docker's default: the container's own cgroups, in whatever hierarchies the host has.
    /// The caller that knows them (the launcher, from the cgroup layer's layout) turns it into
    /// one of the two below before [`setup`](crate::setup), which refuses it unresolved.
    Detect,
    /// A pure cgroup v2 host: the cgroup2 hierarchy itself.
    Unified,
    /// A v1 or hybrid host: a read-only tmpfs holding each of these hierarchies.
    Hierarchies(Vec<CgroupHierarchy>),
}

/// One hierarchy under the tmpfs of [`CgroupFs::Hierarchies`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupHierarchy {
    /// Its directory under `/sys/fs/cgroup`, as the host names it: `memory`, `cpu,cpuacct`,
    /// `unified`.
    pub name: String,
    /// Its v1 controllers (`cpu`, `cpuacct`): the mount's options, which must be exactly the
    /// hierarchy's. Empty: the cgroup2 hierarchy.
    pub controllers: Vec<String>,
}

impl CgroupHierarchy {
    /// The symlinks of a co-mounted hierarchy: each controller's name, when it is not the
    /// directory's, to the directory (`cpu -> cpu,cpuacct`), as hosts and runc make them.
    fn links(&self) -> impl Iterator<Item = &str> {
        let several = self.controllers.len() > 1;
        self.controllers
            .iter()
            .filter(move |c| several && **c != self.name)
            .map(String::as_str)
    }
}

/// Refuses names that are not one plain path component, and controllers that are not plain
/// words: they become directory names and mount options.
pub(crate) fn check(fs: &CgroupFs) -> Result<(), Error> {
    let CgroupFs::Hierarchies(list) = fs else {
        return Ok(());
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_,=-.".contains(&b))
            && s != "."
            && s != ".."
    };
    let mut names: Vec<&str> = Vec::new();
    for h in list {
        let bad = !word(&h.name) || h.controllers.iter().any(|c| !word(c) || c.contains(','));
        let clash = names.contains(&h.name.as_str()) || h.links().any(|l| names.contains(&l));
        if bad || clash {
            return Err(Error::Invalid {
                path: Path::new(CGROUPFS).join(&h.name),
                reason: "not a cgroup hierarchy's name, or named twice",
            });
        }
        names.push(&h.name);
        names.extend(h.links());
    }
    Ok(())
}

/// The options and mount flags of the view's tmpfs.
const TOP_DATA: [&str; 2] = ["mode=755", "size=64k"];
const TOP_FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// The mount flags of each hierarchy in it, fresh or bound.
const HIERARCHY_FLAGS: MsFlags = TOP_FLAGS.union(MsFlags::MS_RDONLY);

/// Whether this kernel (and any filter around box) offers the new mount API, which a view
/// made once the root is entered needs: it mounts through box's own `/sys` by fd.
pub(crate) fn new_mount_api() -> bool {
    match mountapi::open_fs("tmpfs") {
        Ok(_) => true,
        Err(f) => !mountapi::unsupported(&f),
    }
}

/// A mount point in `top` for each hierarchy, and the links of co-mounted ones.
fn fill(top: BorrowedFd<'_>, list: &[CgroupHierarchy]) -> Result<(), Error> {
    let shown = Path::new(CGROUPFS);
    for h in list {
        sys::mkdir_at(top, h.name.as_ref(), 0o555, &shown.join(&h.name))?;
        for link in h.links() {
            sys::symlink_at(Path::new(&h.name), top, link, &shown.join(link))?;
        }
    }
    Ok(())
}

/// Mounts `fs` at `sys`'s `fs/cgroup` (`sys`: box's own mount at `/sys`): for a
/// [`CgroupFs::Hierarchies`] view, the tree `view` holds when given, else a new tmpfs with
/// each hierarchy the bind `view` holds for it when given ([`bind_of_directory`]), else a
/// fresh mount. `proc`: where a procfs is mounted, for the fallbacks of kernels before the
/// new mount API or `mount_setattr`.
pub(crate) fn make(
    sys: BorrowedFd<'_>,
    fs: &CgroupFs,
    view: Option<CgroupView>,
    proc: &str,
) -> Result<(), Error> {
    let shown = Path::new(CGROUPFS);
    let rel = Path::new("fs/cgroup");
    let (spot, _) = beneath::make(sys, rel, shown, Create::Dir)?;
    let again = || open_beneath(sys, rel);
    let binds = match view {
        Some(CgroupView::Tree(tree)) => return view::attach_tree(tree, spot.as_fd(), fs),
        Some(CgroupView::Binds(binds)) => Some(binds),
        None => None,
    };
    let list = match (fs, &binds) {
        (CgroupFs::Hierarchies(list), Some(b)) if b.len() != list.len() => {
            return Err(Error::Invalid {
                path: shown.into(),
                reason: "not one cgroup directory to bind per hierarchy",
            })
        }
        (CgroupFs::Hierarchies(list), _) => list,
        (_, Some(_)) => {
            return Err(Error::Invalid {
                path: shown.into(),
                reason: "binds given for a view of several hierarchies, not this one",
            })
        }
        (CgroupFs::Detect, None) => {
            return Err(Error::Invalid {
                path: shown.into(),
                reason: "the host's cgroup hierarchies were not given",
            })
        }
        (CgroupFs::Unified, None) => {
            return cgroup(spot.as_fd(), &again, shown, &[], proc).map(drop);
        }
    };
    let data = TOP_DATA.map(String::from);
    let tmpfs = Fresh {
        fstype: "tmpfs",
        step: "mount tmpfs",
        data: &data,
        flags: TOP_FLAGS,
    };
    let top = tmpfs.attach(spot.as_fd(), &again, shown, proc)?;
    fill(top.as_fd(), list)?;
    match binds {
        Some(binds) => view::attach_binds(top, list, binds, proc),
        None => {
            for h in list {
                let open = || {
                    nix::fcntl::openat(
                        &top,
                        h.name.as_str(),
                        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                        Mode::empty(),
                    )
                };
                let at = shown.join(&h.name);
                let target = open().map_err(|errno| fs_error("open", &at, errno))?;
                cgroup(target.as_fd(), &open, &at, &h.controllers, proc)?;
            }
            sys::make_readonly(top.as_fd(), shown, false, proc)
        }
    }
}

fn attach_failed(shown: &Path) -> impl Fn(mountapi::Failed) -> Error + '_ {
    move |(step, errno)| Error::Mount {
        step,
        src: None,
        target: shown.into(),
        errno,
    }
}

/// A read-only cgroup filesystem on `target`: v1 with the `controllers`, else cgroup2.
fn cgroup(
    target: BorrowedFd<'_>,
    again: &dyn Fn() -> nix::Result<OwnedFd>,
    shown: &Path,
    controllers: &[String],
    proc: &str,
) -> Result<OwnedFd, Error> {
    let (fstype, step) = match controllers {
        [] => ("cgroup2", "mount cgroup2"),
        _ => ("cgroup", "mount cgroup"),
    };
    let fs = Fresh {
        fstype,
        step,
        data: controllers,
        flags: HIERARCHY_FLAGS,
    };
    fs.attach(target, again, shown, proc)
}

/// A new filesystem: its type (also its source), the step in messages, its options, the
/// mount flags.
struct Fresh<'a> {
    fstype: &'static str,
    step: &'static str,
    data: &'a [String],
    flags: MsFlags,
}

impl Fresh<'_> {
    /// Mounts it on `target` and returns a handle on its root: with the new mount API where
    /// the kernel has it, else `mount(2)` through the fd's path, the mount point opened
    /// `again` (it must now be another filesystem) and made read-only afterwards (a v1
    /// hierarchy's superblock is the host's, which stays read-write). `proc`: where a procfs
    /// is mounted, for the fd's path.
    fn attach(
        &self,
        target: BorrowedFd<'_>,
        again: &dyn Fn() -> nix::Result<OwnedFd>,
        shown: &Path,
        proc: &str,
    ) -> Result<OwnedFd, Error> {
        let failed = |errno| Error::Mount {
            step: self.step,
            src: Some(PathBuf::from(self.fstype)),
            target: shown.into(),
            errno,
        };
        let source = Some(Path::new(self.fstype));
        match mountapi::fresh(self.fstype, source, self.data, self.flags) {
            Ok(mnt) => {
                mountapi::attach(mnt.as_fd(), target).map_err(|(_, e)| failed(e))?;
                return Ok(mnt);
            }
            Err(f) if mountapi::unsupported(&f) => {}
            Err((_, errno)) => return Err(failed(errno)),
        }
        let data = (!self.data.is_empty()).then(|| self.data.join(","));
        let plain = self.flags - MsFlags::MS_RDONLY;
        let path = fd_path_in(proc, target);
        nix::mount::mount(source, &path, Some(self.fstype), plain, data.as_deref())
            .map_err(failed)?;
        let top = again().map_err(|errno| fs_error("reopen mount point", shown, errno))?;
        let dev = |fd: BorrowedFd<'_>| fstat(fd).map(|st| st.st_dev);
        if dev(top.as_fd()) == dev(target) {
            return Err(Error::Replaced {
                path: shown.into(),
                fs: self.fstype,
            });
        }
        if self.flags.contains(MsFlags::MS_RDONLY) {
            sys::make_readonly(top.as_fd(), shown, false, proc)?;
        }
        Ok(top)
    }
}

fn fs_error(step: &'static str, shown: &Path, errno: Errno) -> Error {
    Error::Fs {
        step,
        path: shown.into(),
        errno,
    }
}

mod view;

pub use view::{bind_of_directory, view_tree, CgroupView};

#[cfg(test)]
mod tests;
