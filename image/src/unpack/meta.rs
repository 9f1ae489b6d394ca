//! Owners and extended attributes.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use super::entry::Entry;
use super::{fs, UnpackError, Unpacker};

impl Unpacker<'_> {
    pub(super) fn own(&self, fd: BorrowedFd<'_>, e: &Entry) -> nix::Result<()> {
        if !self.privileged {
            return Ok(());
        }
        nix::unistd::fchown(fd, Some(Uid::from_raw(e.uid)), Some(Gid::from_raw(e.gid)))
    }

    pub(super) fn own_at(&self, dir: BorrowedFd<'_>, name: &[u8], e: &Entry) -> nix::Result<()> {
        if !self.privileged {
            return Ok(());
        }
        let (uid, gid) = (Some(Uid::from_raw(e.uid)), Some(Gid::from_raw(e.gid)));
        nix::unistd::fchownat(
            dir,
            fs::os(name),
            uid,
            gid,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
    }

    pub(super) fn xattrs(&mut self, fd: BorrowedFd<'_>, e: &Entry) -> Result<(), UnpackError> {
        for (key, value) in &e.xattrs {
            if !(key.starts_with("user.") || key.starts_with("security.")) {
                self.stats.dropped_xattrs += 1;
                continue;
            }
            match fs::set_xattr(fd, key, value) {
                // A file system without xattrs (or without this namespace) for box's store.
                Ok(()) | Err(Errno::EOPNOTSUPP) => {}
                Err(Errno::EPERM) if !self.privileged => self.stats.dropped_xattrs += 1,
                Err(errno) => {
                    return Err(UnpackError::Fs {
                        entry: e.shown.clone(),
                        step: "set xattr",
                        errno,
                    })
                }
            }
        }
        Ok(())
    }
}
