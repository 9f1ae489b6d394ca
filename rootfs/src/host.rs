//! `Root::Host`: a fresh tmpfs holding read-only views of the host's system
//! directories, so programs run but nothing on the host can be changed.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sys::stat::{lstat, SFlag};

use crate::sys::{self, HOST_PROC};
use crate::Error;

/// Host top-level entries shared read-only. Symlinks (merged /usr:
/// `/bin -> usr/bin`) are recreated as symlinks; missing ones are skipped.
const SHARED: &[&str] = &[
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
];

/// Private writable tmpfs directories and their modes.
const PRIVATE: &[(&str, u32)] = &[("tmp", 0o1777), ("run", 0o755), ("root", 0o700)];

/// Mounts the tmpfs on `/newroot` (staging view) and fills it.
pub(crate) fn build(newroot: &Path) -> Result<(), Error> {
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys::mount_fs(
        "mount root tmpfs",
        "tmpfs",
        newroot,
        Path::new("/"),
        nosuid_nodev,
        Some("mode=755"),
    )?;
    let root = sys::open_path("open new root", newroot)?;
    for name in SHARED {
        share(root.as_fd(), newroot, name)?;
    }
    for (name, mode) in PRIVATE {
        let shown = Path::new("/").join(name);
        sys::mkdir_at(root.as_fd(), OsStr::new(name), 0o755, &shown)?;
        let opts = format!("mode={mode:o}");
        sys::mount_fs(
            "mount tmpfs",
            "tmpfs",
            &newroot.join(name),
            &shown,
            nosuid_nodev,
            Some(&opts),
        )?;
    }
    Ok(())
}

/// Makes the host's `/<name>` visible read-only at `/<name>` in the new root.
fn share(root: BorrowedFd<'_>, newroot: &Path, name: &str) -> Result<(), Error> {
    let host = Path::new("/oldroot").join(name);
    let shown = Path::new("/").join(name);
    let st = match lstat(&host) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(errno) => {
            return Err(Error::HostPath {
                step: "stat",
                path: shown,
                errno,
            })
        }
    };
    match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFLNK => {
            let link = nix::fcntl::readlink(&host).map_err(|errno| Error::HostPath {
                step: "readlink",
                path: shown.clone(),
                errno,
            })?;
            sys::symlink_at(Path::new(&link), root, name, &shown)
        }
        SFlag::S_IFDIR => {
            sys::mkdir_at(root, OsStr::new(name), 0o755, &shown)?;
            let target = newroot.join(name);
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            sys::mount(
                "bind host directory",
                Some(&host),
                &target,
                &shown,
                None,
                flags,
                None,
            )?;
            let fd = sys::open_path("open bind mount", &target)?;
            sys::make_readonly(fd.as_fd(), &shown, true, HOST_PROC)
        }
        _ => Ok(()),
    }
}
