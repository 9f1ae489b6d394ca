//! The view made of binds of the container's own cgroup directories, for a child that joins
//! its cgroups late (a hybrid host's v1 part made after "go"): made whole by box's parent
//! while the child pivots ([`view_tree`]), or, on a kernel that cannot attach mounts to a
//! detached tree, bind by bind by the child ([`attach_binds`]).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::statfs::fstatfs;

use super::{
    attach_failed, fill, fs_error, CgroupFs, CgroupHierarchy, CGROUPFS, HIERARCHY_FLAGS, TOP_DATA,
    TOP_FLAGS,
};
use crate::sys;
use crate::{mountapi, Error};

/// A detached bind of the directory `dir` (`open_tree(OPEN_TREE_CLONE)`), `shown` its path
/// for messages: what a [`CgroupFs::Hierarchies`] view is made of ([`view_tree`]), one for
/// each hierarchy, from the container's own cgroup directory. Inside the
/// container's cgroup namespace, whose root that directory is, a bind shows what a fresh
/// mount there would: the same superblock, mountinfo's root `/`, the same files. A fresh
/// mount costs more: the cgroup filesystem parses its options, finds the hierarchy under
/// its lock and walks down to the namespace's cgroup, for each hierarchy.
pub fn bind_of_directory(dir: BorrowedFd<'_>, shown: &Path) -> Result<OwnedFd, Error> {
    mountapi::clone_tree(dir, false).map_err(|(step, errno)| Error::Fs {
        step,
        path: shown.into(),
        errno,
    })
}

/// What box's parent hands a child for its [`CgroupFs::Hierarchies`] view
/// ([`crate::BeforeCgroupfs::view`]), made from the container's own cgroup directories.
#[derive(Debug)]
pub enum CgroupView {
    /// The whole view, made: a detached tmpfs holding each hierarchy's bind at its name, with
    /// the links of co-mounted ones, all read-only, nosuid, nodev and noexec ([`view_tree`]).
    /// The child attaches it with one `move_mount`.
    Tree(OwnedFd),
    /// One bind per hierarchy, in the view's order ([`bind_of_directory`]), for the child to
    /// attach on a tmpfs of its own: a kernel that cannot attach mounts to a detached tree
    /// (before Linux 6.15).
    Binds(Vec<OwnedFd>),
}

/// The view `fs` as one detached tree ([`CgroupView::Tree`]), `bind` making the bind of each
/// hierarchy (in `fs`'s order; `None` from it: no view, the child mounts fresh hierarchies).
/// The tmpfs is made first: mountinfo lists mounts in the order they were made, so the tmpfs
/// comes before what it holds. On a kernel that cannot
/// attach mounts to a detached tree the binds are handed back ([`CgroupView::Binds`]);
/// without the new mount API, or for a view of another kind, there is none.
pub fn view_tree(
    fs: &CgroupFs,
    mut bind: impl FnMut(&CgroupHierarchy) -> Option<OwnedFd>,
) -> Result<Option<CgroupView>, Error> {
    let CgroupFs::Hierarchies(list) = fs else {
        return Ok(None);
    };
    let top = detached_top(list)?;
    let Some(binds) = list.iter().map(&mut bind).collect::<Option<Vec<OwnedFd>>>() else {
        return Ok(None);
    };
    let Some(top) = top else {
        return Ok(Some(CgroupView::Binds(binds)));
    };
    let shown = Path::new(CGROUPFS);
    for (i, (h, bind)) in list.iter().zip(&binds).enumerate() {
        match attach_bind(bind.as_fd(), top.as_fd(), h, &shown.join(&h.name)) {
            Ok(()) => {}
            // The first attach tells: the kernel refuses a detached tree as the target.
            Err(Error::Mount {
                errno: Errno::EINVAL,
                ..
            }) if i == 0 => return Ok(Some(CgroupView::Binds(binds))),
            Err(e) => return Err(e),
        }
    }
    if !crate::setattr::set_flags_of_tree(top.as_fd(), shown, HIERARCHY_FLAGS)? {
        // Every kernel that attaches to a detached tree has mount_setattr: a filter denies it.
        return Err(Error::Invalid {
            path: shown.into(),
            reason: "mount_setattr is refused: the view cannot be made read-only",
        });
    }
    Ok(Some(CgroupView::Tree(top)))
}

/// The tmpfs of a view of the hierarchies `list`, detached, with a directory for each and the
/// links of co-mounted ones already made in it, on a kernel with the new mount API (`None`
/// otherwise).
fn detached_top(list: &[CgroupHierarchy]) -> Result<Option<OwnedFd>, Error> {
    let data = TOP_DATA.map(String::from);
    match mountapi::fresh("tmpfs", Some(Path::new("tmpfs")), &data, TOP_FLAGS) {
        Ok(top) => {
            fill(top.as_fd(), list)?;
            Ok(Some(top))
        }
        Err(f) if mountapi::unsupported(&f) => Ok(None),
        Err((step, errno)) => Err(Error::Mount {
            step,
            src: Some(PathBuf::from("tmpfs")),
            target: CGROUPFS.into(),
            errno,
        }),
    }
}

/// Attaches a view made whole ([`view_tree`]) on `spot`: it must be a read-only tmpfs.
pub(super) fn attach_tree(tree: OwnedFd, spot: BorrowedFd<'_>, fs: &CgroupFs) -> Result<(), Error> {
    let shown = Path::new(CGROUPFS);
    let is_tmpfs = fstatfs(&tree)
        .map_err(|errno| fs_error("statfs", shown, errno))?
        .filesystem_type()
        == nix::sys::statfs::TMPFS_MAGIC;
    let flags = nix::sys::statvfs::fstatvfs(&tree)
        .map_err(|errno| fs_error("statvfs", shown, errno))?
        .flags();
    let read_only = flags.contains(nix::sys::statvfs::FsFlags::ST_RDONLY);
    if !matches!(fs, CgroupFs::Hierarchies(_)) || !is_tmpfs || !read_only {
        return Err(Error::Invalid {
            path: shown.into(),
            reason: "the view handed over is not a read-only tmpfs of hierarchies",
        });
    }
    mountapi::attach(tree.as_fd(), spot).map_err(attach_failed(shown))
}

/// Attaches each bind at its hierarchy's directory in `top`, then makes the whole view
/// read-only (and nosuid, nodev, noexec) in one `mount_setattr`; where the kernel lacks it,
/// each mount on its own.
pub(super) fn attach_binds(
    top: OwnedFd,
    list: &[CgroupHierarchy],
    binds: Vec<OwnedFd>,
    proc: &str,
) -> Result<(), Error> {
    let shown = Path::new(CGROUPFS);
    for (h, bind) in list.iter().zip(&binds) {
        attach_bind(bind.as_fd(), top.as_fd(), h, &shown.join(&h.name))?;
    }
    if crate::setattr::set_flags_of_tree(top.as_fd(), shown, HIERARCHY_FLAGS)? {
        return Ok(());
    }
    for (h, bind) in list.iter().zip(&binds) {
        let at = shown.join(&h.name);
        sys::set_flags(bind.as_fd(), &at, HIERARCHY_FLAGS, MsFlags::empty(), proc)?;
    }
    sys::make_readonly(top.as_fd(), shown, false, proc)
}

/// Attaches `bind` at `h`'s directory in `top`: it must be a mount of the hierarchy's kind
/// (v1 with controllers, else cgroup2).
fn attach_bind(
    bind: BorrowedFd<'_>,
    top: BorrowedFd<'_>,
    h: &CgroupHierarchy,
    shown: &Path,
) -> Result<(), Error> {
    let magic = match h.controllers.as_slice() {
        [] => nix::sys::statfs::CGROUP2_SUPER_MAGIC,
        _ => nix::sys::statfs::CGROUP_SUPER_MAGIC,
    };
    let kind = fstatfs(bind).map_err(|errno| fs_error("statfs", shown, errno))?;
    if kind.filesystem_type() != magic {
        return Err(Error::Invalid {
            path: shown.into(),
            reason: "the directory bound there is not of that cgroup hierarchy's kind",
        });
    }
    mountapi::attach_at(bind, top, &h.name).map_err(attach_failed(shown))
}
