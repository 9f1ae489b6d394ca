//! The entries that are not plain files and directories: whiteouts, hard links, device
//! nodes and fifos.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::stat::{self, Mode, SFlag};
use nix::sys::time::TimeSpec;
use tar::EntryType;

use super::entry::{self, refused, Entry};
use super::{fs, UnpackError, Unpacker};

impl Unpacker<'_> {
    /// `.wh.NAME`: NAME of lower layers is gone; `.wh..wh..opq`: its directory hides theirs.
    pub(super) fn whiteout(
        &mut self,
        e: &Entry,
        parent: &[Vec<u8>],
        target: &[u8],
    ) -> Result<(), UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        if target == b".wh..opq" {
            let (_, dir) = self.parent_dir(e, parent)?;
            return fs::set_xattr(dir.as_fd(), fs::OPAQUE_XATTR, b"y")
                .map_err(|errno| fail("mark opaque", errno));
        }
        if target.starts_with(b".wh.") {
            // AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): not content.
            return Ok(());
        }
        if matches!(target, b"" | b"." | b"..") {
            return Err(refused(e.shown.as_bytes(), "a whiteout of no valid name"));
        }
        let (parent_path, parent_fd) = self.parent_dir(e, parent)?;
        let dir = parent_fd.as_fd();
        let made = match fs::kind_at(dir, target) {
            // The same layer has the entry: the whiteout is for lower layers only, and this
            // layer's entry already hides theirs.
            Ok(_) => Ok(()),
            Err(Errno::ENOENT) => stat::mknodat(
                dir,
                fs::os(target),
                SFlag::S_IFCHR,
                Mode::empty(),
                fs::WHITEOUT_DEV,
            )
            .map_err(|errno| fail("make whiteout (a 0/0 character device)", errno)),
            Err(errno) => Err(fail("stat", errno)),
        };
        self.parent = Some((parent_path, parent_fd));
        made
    }

    pub(super) fn hard_link(
        &mut self,
        e: &Entry,
        dir: BorrowedFd<'_>,
        name: &[u8],
    ) -> Result<bool, UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        let target = e
            .link
            .as_deref()
            .ok_or_else(|| refused(e.shown.as_bytes(), "a hard link without a target"))?;
        let target = entry::components(target).ok_or_else(|| {
            refused(
                e.shown.as_bytes(),
                "a hard link with '..' leads out of the layer",
            )
        })?;
        let Some((tname, tparent)) = target.split_last() else {
            return Err(refused(
                e.shown.as_bytes(),
                "a hard link to the layer's root",
            ));
        };
        let tparent: Vec<&[u8]> = tparent.iter().map(Vec::as_slice).collect();
        let tdir = fs::open_dir(self.dest, &tparent)
            .map_err(|errno| fail("open hard link target's directory", errno))?;
        if target == e.path {
            return Ok(false);
        }
        fs::replace(dir, name, || {
            nix::unistd::linkat(
                &tdir,
                fs::os(tname),
                dir,
                fs::os(name),
                nix::fcntl::AtFlags::empty(),
            )
        })
        .map_err(|errno| fail("hard link", errno))
    }

    pub(super) fn node(
        &mut self,
        e: &Entry,
        dir: BorrowedFd<'_>,
        name: &[u8],
    ) -> Result<bool, UnpackError> {
        let fail = |step, errno| e.failed(step, errno);
        let kind = match e.kind {
            EntryType::Char => SFlag::S_IFCHR,
            EntryType::Block => SFlag::S_IFBLK,
            _ => SFlag::S_IFIFO,
        };
        if kind != SFlag::S_IFIFO && !(self.opts.devices && self.privileged) {
            self.stats.skipped_devices += 1;
            return Ok(false);
        }
        let dev = nix::sys::stat::makedev(u64::from(e.device.0), u64::from(e.device.1));
        let replaced = fs::replace(dir, name, || {
            stat::mknodat(
                dir,
                fs::os(name),
                kind,
                Mode::from_bits_truncate(e.mode),
                dev,
            )
        })
        .map_err(|errno| fail("mknod", errno))?;
        self.own_at(dir, name, e)
            .map_err(|errno| fail("set owner", errno))?;
        let t = TimeSpec::new(e.mtime, 0);
        stat::utimensat(
            dir,
            fs::os(name),
            &t,
            &t,
            stat::UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|errno| fail("set times", errno))?;
        Ok(replaced)
    }
}
