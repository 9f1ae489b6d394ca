//! Mounts pinned by fd: the name check after a swap, and the classic-mount fallback.

use super::*;
use crate::default_mounts;
use crate::sys::{fd_path_in, open_path};
use crate::testutil::{in_mount_ns, spawn, wait_ok};
use nix::fcntl::{renameat2, RenameFlags};
use nix::sched::CloneFlags;
use nix::sys::statfs::{PROC_SUPER_MAGIC, TMPFS_MAGIC};
use nix::unistd::{pipe, read, write};

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Someone renames `dev` in the root after box mounted on it: the check
/// after the pivot notices, and the mount itself stayed where it was.
#[test]
fn verify_notices_a_swapped_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("other")).unwrap();
    let (mounted_rd, mounted_wr) = pipe().unwrap();
    let (swapped_rd, swapped_wr) = pipe().unwrap();
    let path = dir.path().to_path_buf();
    let child = spawn(CloneFlags::CLONE_NEWNS, move || {
        let root = open_path("open", &path).map_err(fail)?;
        let pin = at_spot(root.as_fd(), &DEV, &default_mounts()[2], None).map_err(fail)?;
        pin.verify(root.as_fd()).map_err(fail)?;
        write(&mounted_wr, b"m").map_err(fail)?;
        read(&swapped_rd, &mut [0u8]).map_err(fail)?;
        match pin.verify(root.as_fd()) {
            Err(Error::Replaced { path, fs: "tmpfs" }) if path == Path::new("/dev") => {}
            other => return Err(format!("after the swap: {other:?}")),
        }
        // The tmpfs moved with its directory, now named `other`.
        let other = open_at(root.as_fd(), "other".as_ref()).map_err(fail)?;
        if !same_mount(&other, &pin.fd, pin.magic) || pin.magic != TMPFS_MAGIC {
            return Err("the mount did not move with its directory".into());
        }
        Ok(())
    });
    read(&mounted_rd, &mut [0u8]).unwrap();
    // In this (the host's) mount namespace neither name is a mount point.
    let d = open_path("open", dir.path()).unwrap();
    renameat2(&d, "dev", &d, "other", RenameFlags::RENAME_EXCHANGE).unwrap();
    write(&swapped_wr, b"s").unwrap();
    wait_ok(child);
}

/// After a classic mount, the name is accepted only if it leads to a
/// mount of the expected kind on top of the directory box mounted on.
#[test]
fn reopen_accepts_only_the_new_mount() {
    in_mount_ns(|| {
        let tmp = tempfile::tempdir().map_err(fail)?;
        let root = open_path("open", tmp.path()).map_err(fail)?;
        let dir =
            crate::beneath::kernel_dir(root.as_fd(), "dev", Path::new("/dev")).map_err(fail)?;
        let tmpfs = || Expect::Fs("tmpfs", Some(TMPFS_MAGIC));
        let unmounted = reopen(root.as_fd(), &DEV, &dir, tmpfs());
        if !matches!(unmounted, Err(Error::Replaced { .. })) {
            return Err(format!("a bare directory: {:?}", unmounted.err()));
        }
        let target = fd_path_in("/proc", dir.as_fd());
        let flags = MsFlags::MS_NOSUID;
        sys::mount_fs("t", "tmpfs", &target, &target, flags, None).map_err(fail)?;
        let pin = reopen(root.as_fd(), &DEV, &dir, tmpfs()).map_err(fail)?;
        if fs_magic(&pin.fd) != Some(TMPFS_MAGIC) {
            return Err("not the tmpfs".into());
        }
        // Had a procfs been expected there, the tmpfs would not do.
        let procfs = Expect::Fs("procfs", Some(PROC_SUPER_MAGIC));
        if !matches!(
            reopen(root.as_fd(), &DEV, &dir, procfs),
            Err(Error::Replaced { fs: "procfs", .. })
        ) {
            return Err("accepted the wrong filesystem".into());
        }
        Ok(())
    });
}

/// After a classic bind at a spot, the name is accepted only if it leads to the bind's source.
#[test]
fn reopen_accepts_only_the_bind_made() {
    in_mount_ns(|| {
        let tmp = tempfile::tempdir().map_err(fail)?;
        let (src, other) = (tmp.path().join("src"), tmp.path().join("other"));
        for d in [&src, &other] {
            std::fs::create_dir(d).map_err(fail)?;
        }
        let root = open_path("open", tmp.path()).map_err(fail)?;
        let dir =
            crate::beneath::kernel_dir(root.as_fd(), "dev", Path::new("/dev")).map_err(fail)?;
        let (src, other) = (
            open_path("open", &src).map_err(fail)?,
            open_path("o", &other).map_err(fail)?,
        );
        let target = fd_path_in("/proc", dir.as_fd());
        let from = fd_path_in("/proc", src.as_fd());
        sys::mount(
            "t",
            Some(&from),
            &target,
            &target,
            None,
            MsFlags::MS_BIND,
            None,
        )
        .map_err(fail)?;
        let pin = reopen(root.as_fd(), &DEV, &dir, Expect::SameAs(src.as_fd())).map_err(fail)?;
        if !same_inode(pin.fd(), src.as_fd()) {
            return Err("not the bind's root".into());
        }
        match reopen(root.as_fd(), &DEV, &dir, Expect::SameAs(other.as_fd())) {
            Err(Error::Replaced {
                fs: "bind mount", ..
            }) => Ok(()),
            other => Err(format!("another source accepted: {:?}", other.err())),
        }
    });
}
