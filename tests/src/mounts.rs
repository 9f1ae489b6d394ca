//! The host's mount table, to check after an attack that nothing changed on the host.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Mount;

/// The host's mount table (the mountinfo of the test, which runs in the host's mount
/// namespace), to compare before and after an attack.
///
/// Mounts whose mount point is under the temporary directory are left out, except those under
/// the attacked case's own directory: other tests running at the same time create and remove
/// theirs there. Everything else — `/`, `/proc`, `/sys`, `/dev`, the cgroup hierarchies, any
/// other mount of the host — must keep its mount id, its place, its options and its
/// propagation.
pub struct HostMounts {
    mounts: BTreeMap<u64, Mount>,
}

impl HostMounts {
    pub fn snapshot(ours: &Path) -> HostMounts {
        let tmp = std::env::temp_dir();
        let mounts = crate::mounts()
            .into_iter()
            .filter(|m| !m.mount_point.starts_with(&tmp) || m.mount_point.starts_with(ours))
            .map(|m| (m.id, m))
            .collect();
        HostMounts { mounts }
    }

    /// Panics, listing the difference, unless the host's mounts are as in `self`.
    pub fn assert_unchanged(&self, ours: &Path) {
        let now = HostMounts::snapshot(ours);
        let gone = self.not_in(&now);
        let new = now.not_in(self);
        assert!(
            gone.is_empty() && new.is_empty(),
            "the host's mounts changed\nbefore:\n{gone:#?}\nafter:\n{new:#?}"
        );
    }

    /// The mounts of `self` that `other` does not have as they are.
    fn not_in(&self, other: &HostMounts) -> Vec<&Mount> {
        let differs = |(id, m): (&u64, &Mount)| other.mounts.get(id) != Some(m);
        self.mounts
            .iter()
            .filter(|e| differs(*e))
            .map(|(_, m)| m)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount_tmpfs(at: &Path, flags: libc::c_ulong) {
        let target = std::ffi::CString::new(at.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: plain mount(2) with NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                flags,
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "mount tmpfs on {}", at.display());
    }

    /// A mount of the case's own directory made read-only is a change of the host's mounts.
    #[test]
    fn a_remount_under_the_case_is_a_change() {
        crate::require_root();
        let dir = tempfile::tempdir().unwrap();
        let point = dir.path().join("m");
        std::fs::create_dir(&point).unwrap();
        mount_tmpfs(&point, 0);
        let before = HostMounts::snapshot(dir.path());
        before.assert_unchanged(dir.path());
        mount_tmpfs(&point, libc::MS_REMOUNT | libc::MS_RDONLY);
        let seen = std::panic::catch_unwind(|| before.assert_unchanged(dir.path()));
        let target = std::ffi::CString::new(point.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: umount2(2) of the mount made above, with a NUL-terminated path.
        assert_eq!(unsafe { libc::umount2(target.as_ptr(), 0) }, 0);
        let message = *seen.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("the host's mounts changed"), "{message}");
        assert!(message.contains("ro,"), "{message}");
    }
}
