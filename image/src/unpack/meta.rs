//! Owners and extended attributes.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid};

use super::entry::Entry;
use super::{fs, UnpackError, Unpacker};

/// What a new file gets without `fchown` and `fchmod`: box's effective ids (unless a
/// set-group-ID directory says otherwise) and the mode asked minus the umask.
#[derive(Debug, Clone, Copy)]
pub(super) struct Defaults {
    pub uid: u32,
    pub gid: u32,
    /// New entries may take their directory's group (a set-group-ID directory, or a file
    /// system mounted `grpid`, seen as a directory whose group is not box's): owners are
    /// then always set.
    pub setgid_dir: bool,
    pub umask: u32,
}

impl Defaults {
    pub fn of(dest: BorrowedFd<'_>) -> Defaults {
        let gid = nix::unistd::getegid().as_raw();
        let setgid_dir = nix::sys::stat::fstat(dest).map_or(true, |st| {
            st.st_mode & libc::S_ISGID != 0 || st.st_gid != gid
        });
        Defaults {
            uid: nix::unistd::geteuid().as_raw(),
            gid,
            setgid_dir,
            umask: umask(),
        }
    }

    /// Whether a new entry already has `e`'s owner.
    pub fn owned(&self, e: &Entry) -> bool {
        !self.setgid_dir && (e.uid, e.gid) == (self.uid, self.gid)
    }

    /// Whether a file created with `e`'s permission bits already has its whole mode.
    pub fn moded(&self, e: &Entry) -> bool {
        e.mode & 0o7777 == e.mode & 0o777 & !self.umask
    }
}

/// The process's umask, from `/proc/self/status` (reading it with umask(2) would change it
/// for every thread meanwhile); 0o777 when unknown, so that every mode is set explicitly.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .unwrap_or(0o777)
}

impl Unpacker<'_> {
    pub(super) fn own(&self, fd: BorrowedFd<'_>, e: &Entry) -> nix::Result<()> {
        if !self.privileged || self.defaults.owned(e) {
            return Ok(());
        }
        nix::unistd::fchown(fd, Some(Uid::from_raw(e.uid)), Some(Gid::from_raw(e.gid)))
    }

    pub(super) fn own_at(&self, dir: BorrowedFd<'_>, name: &[u8], e: &Entry) -> nix::Result<()> {
        if !self.privileged || self.defaults.owned(e) {
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
