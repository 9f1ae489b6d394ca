//! A container's net namespace, named so that the end of its veth can be decided after the
//! container is gone (see [`crate::background`]).

/// A net namespace, by its nsfs `st_dev` and `st_ino` (nsfs is an anonymous device, major 0:
/// every encoding of `st_dev` agrees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NetnsId {
    dev: u64,
    ino: u64,
}

impl NetnsId {
    /// The net namespace of process `pid`; `None` once it has exited.
    pub(crate) fn of_pid(pid: i32) -> Option<NetnsId> {
        let st = nix::sys::stat::stat(format!("/proc/{pid}/ns/net").as_str()).ok()?;
        Some(NetnsId {
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    pub(crate) fn id(self) -> (u64, u64) {
        (self.dev, self.ino)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_is_found_and_a_gone_process_has_none() {
        let me = NetnsId::of_pid(std::process::id() as i32).unwrap();
        let own = nix::sys::stat::stat("/proc/thread-self/ns/net").unwrap();
        assert_eq!(me.id(), (own.st_dev, own.st_ino));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert_eq!(NetnsId::of_pid(pid), None);
    }
}
