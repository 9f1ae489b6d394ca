//! Directories: the parents an entry needs (made where the layer omits them), and each
//! directory's own mode and times, applied once nothing more goes in it.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::stat::{self, Mode};
use nix::sys::time::TimeSpec;

use super::entry::{refused, Entry};
use super::{fs, UnpackError, UnpackStats, Unpacker};

/// A directory whose mode and times are applied once the layer is complete (adding entries
/// changes a directory's mtime, and a read-only mode would stop box adding them).
pub(super) struct DirMeta {
    pub path: Vec<Vec<u8>>,
    pub mode: u32,
    pub mtime: i64,
}

impl Unpacker<'_> {
    /// The directory an entry goes in (taken from the cache, which the caller refills), made
    /// (0755, like Docker) where the layer omits it.
    pub(super) fn parent_dir(
        &mut self,
        e: &Entry,
        parent: &[Vec<u8>],
    ) -> Result<(Vec<Vec<u8>>, OwnedFd), UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        if let Some((path, fd)) = self.parent.take() {
            if path == parent {
                return Ok((path, fd));
            }
        }
        let rel: Vec<&[u8]> = parent.iter().map(Vec::as_slice).collect();
        let fd = match fs::open_dir(self.dest, &rel) {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ENOTDIR) => self.make_parents(e, &rel)?,
            Err(Errno::ELOOP | Errno::EXDEV) => {
                return Err(refused(
                    e.shown.as_bytes(),
                    "its directory is reached through a symlink",
                ))
            }
            Err(errno) => return Err(fail("open directory", errno)),
        };
        Ok((parent.to_vec(), fd))
    }

    pub(super) fn make_parents(
        &mut self,
        e: &Entry,
        rel: &[&[u8]],
    ) -> Result<OwnedFd, UnpackError> {
        let mut cur =
            fs::open_dir(self.dest, &[]).map_err(|errno| e.failed("open layer", errno))?;
        for (i, name) in rel.iter().enumerate() {
            match fs::open_dir(cur.as_fd(), &[name]) {
                Ok(fd) => cur = fd,
                Err(Errno::ELOOP) => {
                    return Err(refused(
                        e.shown.as_bytes(),
                        "its directory is reached through a symlink",
                    ))
                }
                Err(Errno::ENOENT | Errno::ENOTDIR) => {
                    let (fd, _) = fs::make_dir(cur.as_fd(), name)
                        .map_err(|errno| e.failed("mkdir parent", errno))?;
                    let path = rel[..=i].iter().map(|c| c.to_vec()).collect();
                    self.dirs.push(DirMeta {
                        path,
                        mode: 0o755,
                        mtime: e.mtime,
                    });
                    cur = fd;
                }
                Err(errno) => {
                    return Err(UnpackError::Fs {
                        entry: e.shown.clone(),
                        step: "open parent",
                        errno,
                    })
                }
            }
        }
        Ok(cur)
    }

    /// Applies each directory's own mode and times, now that nothing more goes in it. A
    /// directory a later entry replaced is skipped.
    pub(super) fn finish_dirs(self) -> Result<UnpackStats, UnpackError> {
        for d in self.dirs.iter().rev() {
            let rel: Vec<&[u8]> = d.path.iter().map(Vec::as_slice).collect();
            let shown = String::from_utf8_lossy(&d.path.join(&b'/')).into_owned();
            let fail = |step, errno| UnpackError::Fs {
                entry: shown.clone(),
                step,
                errno,
            };
            let fd = match fs::open_dir(self.dest, &rel) {
                Ok(fd) => fd,
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => continue,
                Err(errno) => return Err(fail("open directory", errno)),
            };
            stat::fchmod(&fd, Mode::from_bits_truncate(d.mode))
                .map_err(|errno| fail("chmod", errno))?;
            let t = TimeSpec::new(d.mtime, 0);
            stat::futimens(&fd, &t, &t).map_err(|errno| fail("set times", errno))?;
        }
        Ok(self.stats)
    }
}
