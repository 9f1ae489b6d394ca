//! Entering the root without `pivot_root` (runc's `--no-pivot`): for a host whose root is the
//! initramfs, which `pivot_root` refuses. The staging tmpfs and then the container's root are
//! each moved (`MS_MOVE`) onto `/` and `chroot`ed into.
//!
//! Weaker than the pivot, and documented so (docs/oci.md): the host's root filesystem cannot
//! leave the mount namespace (it is its root mount), it only ends up covered by the staging
//! tmpfs and the container's root. Every other host mount is detached before the container
//! runs; `..`, `setns` into the namespace and a lazy unmount of `/` all leave a process in
//! the topmost mount on `/`, the container's root.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::Mode;

use crate::sys::{self, fd_path};
use crate::Error;

/// The host's mounts, each held by an `O_PATH` fd of its root taken before box mounts
/// anything, deepest first: detached by [`detach_host`] once the root is built.
pub(crate) struct HostMounts(Vec<(PathBuf, OwnedFd)>);

/// Opens every mount point of this namespace but `/` (a copy of the host's, not yet changed).
pub(crate) fn host_mounts() -> Result<HostMounts, Error> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| Error::HostPath {
        step: "read mountinfo",
        path: "/proc/self/mountinfo".into(),
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    let mut points: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape)
        .filter(|p| p != Path::new("/"))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points.dedup();
    let mut held = Vec::new();
    for p in points {
        let flags = OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
        match nix::fcntl::open(&p, flags, Mode::empty()) {
            Ok(fd) => held.push((p, fd)),
            // Covered by another mount, or gone: nothing of it to reach by name.
            Err(Errno::ENOENT | Errno::EACCES | Errno::ELOOP) => {}
            Err(errno) => {
                return Err(Error::HostPath {
                    step: "open host mount",
                    path: p,
                    errno,
                })
            }
        }
    }
    Ok(HostMounts(held))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).and_then(|d| {
            let s = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (b[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Staging without `pivot_root`: the host's tree bound (recursively) at `/tmp/oldroot`, then
/// the staging tmpfs at `/tmp` moved onto `/` and made the process's root.
pub(crate) fn stage(tmp: &Path) -> Result<(), Error> {
    let oldroot = tmp.join("oldroot");
    sys::mount(
        "bind host root",
        Some(Path::new("/")),
        &oldroot,
        &oldroot,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    enter(tmp, "staging")
}

/// `dir`'s mount moved onto `/` and `chroot`ed into; the cwd is the new `/`.
pub(crate) fn enter(dir: &Path, what: &'static str) -> Result<(), Error> {
    let fs = |step, path: &Path, errno| Error::Fs {
        step,
        path: path.into(),
        errno,
    };
    nix::unistd::chdir(dir).map_err(|e| fs("chdir", dir, e))?;
    sys::mount(
        if what == "staging" {
            "move staging onto /"
        } else {
            "move root onto /"
        },
        Some(Path::new(".")),
        Path::new("/"),
        dir,
        None,
        MsFlags::MS_MOVE,
        None,
    )?;
    nix::unistd::chroot(".").map_err(|e| fs("chroot", dir, e))?;
    nix::unistd::chdir("/").map_err(|e| fs("chdir", Path::new("/"), e))
}

/// Detaches every host mount held in `mounts` (by its fd, so that covered ones are reached)
/// and then the host's tree at `/oldroot`: what stays of the host is its root filesystem,
/// covered.
pub(crate) fn detach_host(mounts: HostMounts, oldroot: &Path) -> Result<(), Error> {
    for (path, fd) in &mounts.0 {
        match nix::mount::umount2(&fd_path(fd.as_fd()), MntFlags::MNT_DETACH) {
            // EINVAL: no longer a mount, detached with one above it.
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(errno) => {
                return Err(Error::Unmount {
                    step: "detach host mount",
                    path: path.clone(),
                    errno,
                })
            }
        }
    }
    drop(mounts);
    nix::mount::umount2(oldroot, MntFlags::MNT_DETACH).map_err(|errno| Error::Unmount {
        step: "detach host root",
        path: oldroot.into(),
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape("/a\\040b"), Path::new("/a b"));
        assert_eq!(unescape("/x\\134y"), Path::new("/x\\y"));
        assert_eq!(unescape("/plain"), Path::new("/plain"));
        assert_eq!(unescape("/bad\\04"), Path::new("/bad\\04"));
    }
}
