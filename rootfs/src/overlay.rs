//! `Root::Overlay`: an overlayfs whose lower layers are read-only directories (an image's
//! layers, shared by every container on the image) under the container's own upper and
//! work directories, which only it writes.
//!
//! The overlay is mounted by the child, in its new (private) mount namespace, so it is never
//! on the host's mount table and goes when the namespace goes; what stays on the host is the
//! upper and work directories, which [`Prepared::create`](crate::Prepared::create) makes in the
//! parent and [`OverlayDirs::remove`] removes.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;
use serde::{Deserialize, Serialize};

use crate::{mountapi, sys, Error};

/// overlayfs's limit on lower layers (`OVL_MAX_STACK`).
pub const MAX_LAYERS: usize = 500;

/// The most a `mount(2)` option string holds: one page, with its NUL.
const PAGE: usize = 4096;

/// What an overlay root is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlay {
    /// The lower layers, bottom first (the order images list them in): never written.
    pub layers: Vec<PathBuf>,
    /// A directory of this container's own, on the host: `upper/` (its writes) and `work/`
    /// (overlayfs's scratch space) are made in it, and it is removed with them.
    pub dir: PathBuf,
}

impl Overlay {
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// Where the root is mounted when the new mount API is missing (kernels before 5.2).
    fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }
}

/// The checks of [`check`](crate::check): absolute host paths that overlayfs's option syntax
/// cannot misread, existing layer directories, at most [`MAX_LAYERS`].
pub(crate) fn check(o: &Overlay, exists: bool) -> Result<(), Error> {
    let invalid = |path: &Path, reason| Error::Invalid {
        path: path.into(),
        reason,
    };
    if o.layers.is_empty() {
        return Err(invalid(&o.dir, "an overlay root needs at least one layer"));
    }
    if o.layers.len() > MAX_LAYERS {
        return Err(invalid(
            &o.dir,
            "an overlay root has at most 500 layers (overlayfs's limit)",
        ));
    }
    for path in o.layers.iter().chain([&o.dir]) {
        if !path.is_absolute() {
            return Err(invalid(path, "host path must be absolute"));
        }
        // `:` separates layers, `\` escapes and `,` separates options in overlayfs's syntax.
        if path
            .as_os_str()
            .as_bytes()
            .iter()
            .any(|b| b":,\\\0".contains(b))
        {
            return Err(invalid(
                path,
                "an overlay path holds none of ':', ',', '\\' or NUL (overlayfs's separators)",
            ));
        }
    }
    if exists {
        for layer in &o.layers {
            match std::fs::metadata(layer) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(invalid(layer, "a layer is not a directory")),
                Err(e) => {
                    return Err(Error::HostPath {
                        step: "stat layer",
                        path: layer.clone(),
                        errno: e.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
                    })
                }
            }
        }
    }
    Ok(())
}

/// The upper and work directories of an overlay root, on the host: made before the clone,
/// removed when the container ends or its start fails.
#[derive(Debug)]
pub struct OverlayDirs {
    dir: PathBuf,
}

impl OverlayDirs {
    /// Makes `o.dir` with an empty `upper/` (0755 root: the container's `/`) and `work/`. What
    /// an earlier container left there (one killed before it could remove it) is removed
    /// first: a new container never sees another's writes.
    pub(crate) fn create(o: &Overlay) -> Result<OverlayDirs, Error> {
        match std::fs::symlink_metadata(&o.dir) {
            // remove_dir_all never follows a symlink, at the top or inside.
            Ok(_) => std::fs::remove_dir_all(&o.dir)
                .map_err(fs("remove stale overlay directory", &o.dir))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fs("stat overlay directory", &o.dir)(e)),
        }
        let made = OverlayDirs { dir: o.dir.clone() };
        // Exactly these modes, whatever the umask (umask(2) sets as it reads: put it back).
        let umask = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        nix::sys::stat::umask(umask);
        let umask = umask.bits();
        for (path, mode) in [
            (o.dir.clone(), 0o700),
            (o.upper(), 0o755),
            (o.work(), 0o700),
        ] {
            std::fs::DirBuilder::new()
                .mode(mode)
                .create(&path)
                .map_err(fs("mkdir", &path))?;
            if mode & umask != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                    .map_err(fs("chmod", &path))?;
            }
        }
        Ok(made)
    }

    /// Gives the upper directory (the container's `/`) to `uid`:`gid`, the host ids of the
    /// container's root in its user namespace ([`Overlay::mount_idmapped`]).
    pub fn give_upper(&self, uid: u32, gid: u32) -> Result<(), Error> {
        let upper = self.dir.join("upper");
        std::os::unix::fs::lchown(&upper, Some(uid), Some(gid)).map_err(fs("chown", &upper))
    }

    /// The directory holding `upper/` and `work/`.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Removes the directories and everything the container wrote (never following a
    /// symlink it made). Already gone is fine.
    pub fn remove(self) -> Result<(), Error> {
        if self.remove_empty() {
            return Ok(());
        }
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(fs("remove overlay directories", &self.dir)(e))
            }
            _ => Ok(()),
        }
    }

    /// The usual end, in a few `rmdir`s: a container that wrote nothing leaves overlayfs's
    /// `work/work/` empty and `upper/` holding at most the empty mount points the child made
    /// for an image that lacks them (`proc/`, `sys/`, `dev/`); a walk of the tree with
    /// `remove_dir_all` costs ~10 syscalls a directory. False at the first thing that is not
    /// an empty directory (`rmdir` follows no symlink): the caller then walks the tree.
    fn remove_empty(&self) -> bool {
        let work = self.dir.join("work");
        empty_children_removed(&self.dir.join("upper"))
            && [
                self.dir.join("upper"),
                work.join("work"),
                work,
                self.dir.clone(),
            ]
            .iter()
            .all(|dir| match std::fs::remove_dir(dir) {
                Ok(()) => true,
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            })
    }
}

/// Removes the entries of `dir` if each is an empty directory; false at the first that is
/// not (or if `dir` cannot be read). Entries are removed relative to `dir`'s own fd, opened
/// without following a link.
fn empty_children_removed(dir: &Path) -> bool {
    use nix::dir::Dir;
    use nix::fcntl::OFlag;
    use nix::unistd::{unlinkat, UnlinkatFlags};
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut listing = match Dir::open(dir, flags, nix::sys::stat::Mode::empty()) {
        Ok(listing) => listing,
        Err(errno) => return errno == Errno::ENOENT,
    };
    let names: Vec<std::ffi::CString> = listing
        .iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    names
        .iter()
        .all(|name| unlinkat(&listing, name.as_c_str(), UnlinkatFlags::RemoveDir).is_ok())
}

/// An io error of `step` on `path`, with its errno.
fn fs<'a>(step: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |e| Error::Fs {
        step,
        path: path.into(),
        errno: e.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
    }
}

/// The overlay, made while the host's root is still the child's (so that the host paths
/// resolve as the user meant): a detached mount to attach at the new root, or (without the
/// new mount API) a handle on the directory it is mounted on, to bind there.
pub(crate) enum Made {
    Detached(OwnedFd),
    MountedAt(OwnedFd),
}

/// Mounts the overlay. Each lower layer is added on its own (`lowerdir+`, Linux 6.8+), so
/// their number is not bounded by the one-page limit of a mount option string; older
/// kernels get the classic `lowerdir=top:…:bottom`, which must fit in that page.
pub(crate) fn mount(o: &Overlay) -> Result<Made, Error> {
    match fresh(o) {
        Ok(fd) => return Ok(Made::Detached(fd)),
        Err(failed) if !fallback(&failed) => {
            return Err(Error::Overlay {
                step: failed.0,
                errno: failed.1,
            })
        }
        Err(_) => {}
    }
    let data = classic_options(o)?;
    let merged = o.merged();
    // Only this fallback needs a mount point; in the container's own directory.
    match nix::unistd::mkdir(&merged, nix::sys::stat::Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(errno) => {
            return Err(Error::Fs {
                step: "mkdir",
                path: merged,
                errno,
            })
        }
    }
    let classic = |data: &str| {
        sys::mount(
            "mount overlay root",
            Some(Path::new("overlay")),
            &merged,
            &merged,
            Some("overlay"),
            MsFlags::empty(),
            Some(data),
        )
    };
    // Before 5.10 the kernel refuses the whole string for `volatile`: then without it.
    let volatile = format!("{data},{VOLATILE}");
    if !wants_volatile(o) || volatile.len() >= PAGE || classic(&volatile).is_err() {
        classic(&data)?;
    }
    sys::open_path("open overlay root", &merged).map(Made::MountedAt)
}

/// Whether the new API's failure means "use mount(2)": no fsopen (before 5.2, or filtered),
/// or no `lowerdir+` (before 6.8: an unknown key is EINVAL).
fn fallback(failed: &mountapi::Failed) -> bool {
    mountapi::unsupported(failed) || *failed == ("fsconfig lowerdir+", Errno::EINVAL)
}

/// The options every overlay root gets: `index=off`, because a layer is a lower directory
/// of many overlays at once, and the inode index would tie it to one upper directory.
const COMMON: &[&str] = &["index=off"];

/// `volatile` (Linux 5.10+, not on a tmpfs: [`wants_volatile`]): no sync of the upper
/// directory's filesystem, ever — above all
/// not the `syncfs` of the whole file system when the overlay goes with its namespace, which
/// on a disk shared with other work costs milliseconds to seconds. The upper directory is
/// made fresh for each container and removed with it, so a crash never needs what a sync
/// would have kept. Left out where the kernel does not know it.
const VOLATILE: &str = "volatile";

/// Whether `volatile` saves anything: not on a tmpfs, whose sync is a no-op, while
/// `volatile` makes overlayfs create `work/work/incompat/volatile/dirty` at every mount (three
/// more inodes made, and removed with the container). Where the upper directory's file
/// system cannot be told, it is used.
fn wants_volatile(o: &Overlay) -> bool {
    use nix::sys::statfs::{statfs, TMPFS_MAGIC};
    !statfs(&o.upper()).is_ok_and(|st| st.filesystem_type() == TMPFS_MAGIC)
}

impl Overlay {
    /// The overlay as a detached mount (the new mount API with `lowerdir+`, Linux 6.8+), for
    /// [`setup_with`](crate::setup_with) to attach; `None` where the kernel lacks either, and
    /// the root's setup mounts it itself. Made by the caller as the host's root, after
    /// [`Prepared::create`](crate::Prepared::create) made the upper and work directories: so
    /// box makes it while its child sets up its namespaces.
    pub fn mount_detached(&self) -> Result<Option<OwnedFd>, Error> {
        match fresh(self) {
            Ok(fd) => Ok(Some(fd)),
            Err(failed) if fallback(&failed) => Ok(None),
            Err((step, errno)) => Err(Error::Overlay { step, errno }),
        }
    }
}

fn fresh(o: &Overlay) -> Result<OwnedFd, mountapi::Failed> {
    let ctx = mountapi::open_fs("overlay")?;
    let set = |step, key: &str, value: &[u8]| mountapi::set_string(&ctx, step, key, value);
    for layer in o.layers.iter().rev() {
        set(
            "fsconfig lowerdir+",
            "lowerdir+",
            layer.as_os_str().as_bytes(),
        )?;
    }
    set(
        "fsconfig upperdir",
        "upperdir",
        o.upper().as_os_str().as_bytes(),
    )?;
    set(
        "fsconfig workdir",
        "workdir",
        o.work().as_os_str().as_bytes(),
    )?;
    for option in COMMON {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        set("fsconfig", key, value.as_bytes())?;
    }
    if wants_volatile(o) {
        match mountapi::set_flag(&ctx, "fsconfig volatile", VOLATILE) {
            Ok(()) | Err((_, Errno::EINVAL)) => {}
            Err(failed) => return Err(failed),
        }
    }
    mountapi::create_and_mount(&ctx, MsFlags::empty())
}

/// `lowerdir=TOP:…:BOTTOM,upperdir=…,workdir=…,index=off`, if it fits in a page.
fn classic_options(o: &Overlay) -> Result<String, Error> {
    let lower: Vec<String> = o
        .layers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let mut data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        o.upper().display(),
        o.work().display()
    );
    for option in COMMON {
        data.push(',');
        data.push_str(option);
    }
    if data.len() + 1 > PAGE {
        return Err(Error::OverlayOptions {
            layers: o.layers.len(),
            bytes: data.len(),
        });
    }
    Ok(data)
}

/// Attaches what [`mount`] made at the new root (`target`, the staging root's `/newroot`).
pub(crate) fn attach(made: Made, target: &Path) -> Result<(), Error> {
    match made {
        Made::Detached(fd) => {
            let at = sys::open_path("open new root", target)?;
            mountapi::attach(fd.as_fd(), at.as_fd()).map_err(|(step, errno)| Error::Mount {
                step,
                src: Some("overlay".into()),
                target: "/".into(),
                errno,
            })
        }
        Made::MountedAt(fd) => sys::mount(
            "bind overlay root",
            Some(&sys::fd_path(fd.as_fd())),
            target,
            Path::new("/"),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        ),
    }
}

mod idmap;
#[cfg(test)]
mod tests;
