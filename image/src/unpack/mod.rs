//! Unpacking one layer (an uncompressed tar stream) into its own directory, in the form an
//! overlay lower directory takes:
//!
//! - a whiteout `.wh.NAME` becomes a character device 0/0 named NAME, and `.wh..wh..opq`
//!   the `trusted.overlay.opaque=y` xattr on its directory (the image spec's whiteouts,
//!   overlayfs's representation); a whiteout never hides an entry of its own layer;
//! - every entry is made relative to the layer directory's fd, never through a symlink, and
//!   never outside it: `..` is refused, a leading `/` stays inside, a path through a symlink
//!   fails (ELOOP) and the layer with it;
//! - hard links are made to entries of the same layer only; character and block devices are
//!   skipped unless allowed (and box is root); owners, modes (setuid included), times and
//!   `user.*`/`security.*` xattrs are kept; `trusted.*` xattrs (overlay's own) are dropped.

mod dirs;
mod entry;
pub(crate) mod fs;
mod meta;
mod special;
#[cfg(test)]
mod tests;

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::stat::{self, Mode};
use nix::sys::time::TimeSpec;
use tar::EntryType;

use dirs::DirMeta;
use entry::{refused, Entry, Pending};

/// How to unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackOptions {
    /// Create character and block devices the layer has (root only); skipped otherwise.
    pub devices: bool,
}

impl Default for UnpackOptions {
    /// Devices skipped, as a container's `/dev` is box's own.
    fn default() -> Self {
        UnpackOptions { devices: false }
    }
}

/// What one unpack did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnpackStats {
    pub entries: u64,
    /// Bytes of regular files.
    pub bytes: u64,
    pub skipped_devices: u64,
    pub dropped_xattrs: u64,
}

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("reading the layer: {0}")]
    Read(#[source] io::Error),
    #[error("entry {entry:?}: {reason}")]
    Refused { entry: String, reason: &'static str },
    #[error("entry {entry:?}: {step}: {errno}")]
    Fs {
        entry: String,
        step: &'static str,
        errno: Errno,
    },
}

/// Unpacks the tar stream `archive` into the directory `dest` (empty, box's own).
pub fn unpack<R: Read>(
    archive: R,
    dest: BorrowedFd<'_>,
    opts: &UnpackOptions,
) -> Result<UnpackStats, UnpackError> {
    let mut tar = tar::Archive::new(archive);
    let mut u = Unpacker {
        dest,
        opts: *opts,
        privileged: fs::privileged(),
        defaults: meta::Defaults::of(dest),
        stats: UnpackStats::default(),
        dirs: Vec::new(),
        parent: None,
    };
    let mut pending = Pending::default();
    for entry in tar.entries().map_err(UnpackError::Read)?.raw(true) {
        let mut entry = entry.map_err(UnpackError::Read)?;
        if pending.absorb(&mut entry)? {
            continue;
        }
        let described = pending.describe(&entry)?;
        u.entry(&described, &mut entry)?;
        u.stats.entries += 1;
    }
    u.parent = None;
    u.finish_dirs()
}

struct Unpacker<'a> {
    dest: BorrowedFd<'a>,
    opts: UnpackOptions,
    privileged: bool,
    defaults: meta::Defaults,
    stats: UnpackStats,
    dirs: Vec<DirMeta>,
    /// The last parent directory opened: tar entries come grouped by directory.
    parent: Option<(Vec<Vec<u8>>, OwnedFd)>,
}

impl Unpacker<'_> {
    fn entry(&mut self, e: &Entry, data: &mut impl Read) -> Result<(), UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        let Some((name, parent)) = e.path.split_last() else {
            // The layer's root itself (`./`).
            if e.kind == EntryType::Directory {
                self.own(self.dest, e)
                    .map_err(|errno| fail("set owner", errno))?;
                self.dirs.push(DirMeta {
                    path: Vec::new(),
                    mode: e.mode,
                    mtime: e.mtime,
                });
            }
            return Ok(());
        };
        if let Some(target) = name.strip_prefix(b".wh.") {
            return self.whiteout(e, parent, target);
        }
        let (parent_path, parent_fd) = self.parent_dir(e, parent)?;
        let replaced = self.make(e, data, parent_fd.as_fd(), name)?;
        // An entry that replaced a directory may have removed the one cached.
        if !replaced {
            self.parent = Some((parent_path, parent_fd));
        }
        Ok(())
    }

    /// Makes entry `e` as `name` in `dir`; true when it replaced something there.
    fn make(
        &mut self,
        e: &Entry,
        data: &mut impl Read,
        dir: BorrowedFd<'_>,
        name: &[u8],
    ) -> Result<bool, UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        let n = fs::os(name);
        let t = TimeSpec::new(e.mtime, 0);
        let replaced = match e.kind {
            EntryType::Regular | EntryType::Continuous => {
                let (fd, replaced) = fs::create_file(dir, name, e.mode)
                    .map_err(|errno| fail("create file", errno))?;
                let mut file = std::fs::File::from(fd);
                let copied = io::copy(data, &mut file).map_err(|err| match err.raw_os_error() {
                    Some(errno) => fail("write file", Errno::from_raw(errno)),
                    None => UnpackError::Read(err),
                })?;
                file.flush().map_err(|_| fail("write file", Errno::EIO))?;
                self.stats.bytes += copied;
                self.own(file.as_fd(), e)
                    .map_err(|errno| fail("set owner", errno))?;
                // Only what creation could not give (setuid, setgid, sticky, bits the umask
                // took), after the owner: chown clears setuid and setgid.
                if !self.defaults.moded(e) {
                    stat::fchmod(&file, Mode::from_bits_truncate(e.mode))
                        .map_err(|errno| fail("chmod", errno))?;
                }
                self.xattrs(file.as_fd(), e)?;
                stat::futimens(&file, &t, &t).map_err(|errno| fail("set times", errno))?;
                replaced
            }
            EntryType::Directory => {
                let (fd, replaced) =
                    fs::make_dir(dir, name).map_err(|errno| fail("mkdir", errno))?;
                self.own(fd.as_fd(), e)
                    .map_err(|errno| fail("set owner", errno))?;
                self.xattrs(fd.as_fd(), e)?;
                self.dirs.push(DirMeta {
                    path: e.path.clone(),
                    mode: e.mode,
                    mtime: e.mtime,
                });
                replaced
            }
            EntryType::Symlink => {
                let target = e
                    .link
                    .as_deref()
                    .ok_or_else(|| refused(e.shown.as_bytes(), "a symlink without a target"))?;
                let replaced =
                    fs::replace(dir, name, || nix::unistd::symlinkat(fs::os(target), dir, n))
                        .map_err(|errno| fail("symlink", errno))?;
                self.own_at(dir, name, e)
                    .map_err(|errno| fail("set owner", errno))?;
                stat::utimensat(dir, n, &t, &t, stat::UtimensatFlags::NoFollowSymlink)
                    .map_err(|errno| fail("set times", errno))?;
                replaced
            }
            EntryType::Link => self.hard_link(e, dir, name)?,
            EntryType::Char | EntryType::Block | EntryType::Fifo => self.node(e, dir, name)?,
            // Other types (sockets cannot be in a tar; vendor types) are nothing to unpack.
            _ => false,
        };
        Ok(replaced)
    }
}
