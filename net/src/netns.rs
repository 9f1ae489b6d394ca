//! Whether a container's net namespace outlives it. A veth dies with the namespace that holds
//! its container end, and the kernel tears an unused namespace down on its own, off the
//! caller's clock; deleting the veth instead waits for RCU grace periods (tens of ms). So box
//! deletes it only when something else still holds the namespace.

use std::os::unix::fs::MetadataExt;

/// A net namespace, by its nsfs inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NetnsId {
    dev: u64,
    ino: u64,
}

impl NetnsId {
    /// The net namespace of process `pid`; `None` once it has exited.
    pub(crate) fn of_pid(pid: i32) -> Option<NetnsId> {
        let meta = std::fs::metadata(format!("/proc/{pid}/ns/net")).ok()?;
        Some(NetnsId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Whether a process this box can see is still in the namespace (a container that joined
    /// it with `container:NAME`, an `nsenter`). Holders that are not processes (a bind mount
    /// of the nsfs file, an open fd) are not seen: the veth then lives as long as they hold
    /// it, off the bridge's address plan (addresses are given round-robin).
    pub(crate) fn in_use(self) -> bool {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return true;
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(is_pid))
            .filter_map(|e| std::fs::metadata(e.path().join("ns/net")).ok())
            .any(|m| m.dev() == self.dev && m.ino() == self.ino)
    }
}

fn is_pid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_is_in_use_and_a_gone_process_has_none() {
        let me = NetnsId::of_pid(std::process::id() as i32).unwrap();
        assert!(me.in_use());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert_eq!(NetnsId::of_pid(pid), None);
    }
}
