//! What the closer does, in raw system calls on its own stack (it shares box's memory and
//! runs beside it): nothing here allocates, panics or touches `errno`. The same functions run
//! in box itself when no closer could be made.

use std::ffi::c_void;
use std::os::fd::RawFd;

use super::raw::{close, syscall3, syscall4};

/// IFNAMSIZ: a link's name and its NUL.
pub(super) const NAME_LEN: usize = 16;

/// What the closer is handed, at the bottom of its own mapping.
#[derive(Clone, Copy)]
#[repr(C)]
pub(super) struct Job {
    /// A netfilter socket to close last, or -1.
    pub(super) socket: RawFd,
    /// The pipe's read end (end of file once box has closed its copy of the socket), or -1.
    pub(super) box_closed: RawFd,
    /// A veth to delete if a process is still in this net namespace (by nsfs `st_dev` and
    /// `st_ino`); `veth[0] == 0` for none.
    pub(super) netns: (u64, u64),
    pub(super) veth: [u8; NAME_LEN],
    pub(super) mapping: *mut c_void,
    pub(super) len: usize,
}

impl Job {
    /// The closer's work: only the job's fds kept, the veth's fate, then the socket's last
    /// close once box has closed its copy.
    pub(super) fn run_detached(&self) {
        close_all_but(self.socket, self.box_closed);
        self.settle_veth();
        if self.socket >= 0 {
            let mut byte = 0u8;
            // SAFETY: reads one byte into this stack; every signal is blocked, so no EINTR.
            unsafe {
                syscall3(
                    libc::SYS_read,
                    self.box_closed as usize,
                    std::ptr::addr_of_mut!(byte) as usize,
                    1,
                )
            };
            close(self.socket);
        }
    }

    /// Deletes the veth when a process is still in the container's namespace; otherwise the
    /// kernel removes the pair with the namespace.
    pub(super) fn settle_veth(&self) {
        if self.veth[0] != 0 && netns_in_use(self.netns) {
            delete_link(&self.veth);
        }
    }
}

/// Whether a process still has the net namespace `(dev, ino)`: a look at `/proc/*/ns/net`.
/// Holders that are not processes (a bind mount of the nsfs file, an open fd) are not seen.
/// When `/proc` cannot be read, in use (the veth is deleted: the safe side).
fn netns_in_use(netns: (u64, u64)) -> bool {
    // SAFETY: opens a directory of this process's own.
    let fd = unsafe {
        syscall4(
            libc::SYS_openat,
            libc::AT_FDCWD as usize,
            c"/proc".as_ptr() as usize,
            (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as usize,
            0,
        )
    };
    let Ok(fd) = i32::try_from(fd) else {
        return true;
    };
    if fd < 0 {
        return true;
    }
    let found = scan(fd, netns);
    close(fd);
    found
}

fn scan(dir: RawFd, netns: (u64, u64)) -> bool {
    // u64s, so that each record's 8-byte fields are aligned.
    let mut buf = [0u64; 512];
    loop {
        // SAFETY: getdents64 writes at most the buffer's size into it.
        let n = unsafe {
            syscall3(
                libc::SYS_getdents64,
                dir as usize,
                buf.as_mut_ptr() as usize,
                std::mem::size_of_val(&buf),
            )
        };
        let Ok(n) = usize::try_from(n) else {
            return true;
        };
        if n == 0 {
            return false;
        }
        // SAFETY: the kernel wrote `n` bytes of records into the buffer.
        let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
        let mut at = 0;
        // A record: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-ended).
        while let Some(record) = bytes.get(at..) {
            let (Some(&lo), Some(&hi)) = (record.get(16), record.get(17)) else {
                break;
            };
            let reclen = usize::from(u16::from_ne_bytes([lo, hi]));
            if reclen == 0 {
                break;
            }
            if let Some(name) = record.get(19..reclen.min(record.len())) {
                if pid_in(name, netns) {
                    return true;
                }
            }
            at += reclen;
        }
    }
}

/// Whether `/proc/<name>/ns/net` is `netns`, for a name of digits (a process).
fn pid_in(name: &[u8], netns: (u64, u64)) -> bool {
    let digits = name.iter().take_while(|&&b| b != 0).count();
    if digits == 0 || digits > 10 || !name[..digits].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut path = [0u8; 32];
    let mut len = 0;
    for part in [&b"/proc/"[..], &name[..digits], b"/ns/net"] {
        for &b in part {
            if let Some(slot) = path.get_mut(len) {
                *slot = b;
            }
            len += 1;
        }
    }
    // SAFETY: an all-zero `stat` is a valid value of the plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated (at most 6 + 10 + 7 bytes of 32); newfstatat writes
    // one `stat` into `st`.
    let ok = unsafe {
        syscall4(
            libc::SYS_newfstatat,
            libc::AT_FDCWD as usize,
            path.as_ptr() as usize,
            std::ptr::addr_of_mut!(st) as usize,
            0,
        )
    } == 0;
    ok && (st.st_dev, st.st_ino) == netns
}

/// `RTM_DELLINK` of the link `name` (NUL-terminated), over a socket of its own; whatever the
/// answer (a link already gone is as good as deleted).
fn delete_link(name: &[u8; NAME_LEN]) {
    // SAFETY: a new socket of this process's own.
    let fd = unsafe {
        syscall3(
            libc::SYS_socket,
            libc::AF_NETLINK as usize,
            (libc::SOCK_RAW | libc::SOCK_CLOEXEC) as usize,
            libc::NETLINK_ROUTE as usize,
        )
    };
    let Ok(fd) = i32::try_from(fd) else {
        return;
    };
    if fd < 0 {
        return;
    }
    let message = dellink_message(name);
    // SAFETY: an all-zero sockaddr_nl is the kernel's address (pid 0) once the family is set.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    let mut ack = [0u8; 256];
    // SAFETY: connect reads the address, write reads the message, read writes into `ack`:
    // all on this stack, with their sizes.
    unsafe {
        syscall3(
            libc::SYS_connect,
            fd as usize,
            std::ptr::addr_of!(kernel) as usize,
            std::mem::size_of::<libc::sockaddr_nl>(),
        );
        if syscall3(
            libc::SYS_write,
            fd as usize,
            message.as_ptr() as usize,
            message.len(),
        ) > 0
        {
            // The kernel deleted the link while handling the write; this is its answer.
            syscall3(
                libc::SYS_read,
                fd as usize,
                ack.as_mut_ptr() as usize,
                ack.len(),
            );
        }
    }
    close(fd);
}

/// nlmsghdr (16) · ifinfomsg (16) · IFLA_IFNAME attribute (4 + 16).
const DELLINK_LEN: usize = 16 + 16 + 4 + NAME_LEN;

fn dellink_message(name: &[u8; NAME_LEN]) -> [u8; DELLINK_LEN] {
    let mut m = [0u8; DELLINK_LEN];
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    m[0..4].copy_from_slice(&(DELLINK_LEN as u32).to_ne_bytes());
    m[4..6].copy_from_slice(&libc::RTM_DELLINK.to_ne_bytes());
    m[6..8].copy_from_slice(&flags.to_ne_bytes());
    m[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // pid 0; ifinfomsg all zero: by name.
    m[32..34].copy_from_slice(&((4 + NAME_LEN) as u16).to_ne_bytes());
    m[34..36].copy_from_slice(&libc::IFLA_IFNAME.to_ne_bytes());
    m[36..].copy_from_slice(name);
    m
}

/// Closes every fd of this process but `a` and `b` (either may be -1): the closer holds
/// nothing of box's (its locks, pipes) but what it goes on with.
fn close_all_but(a: RawFd, b: RawFd) {
    let (low, high) = (a.min(b), a.max(b));
    let mut first = 0u32;
    for keep in [low, high] {
        let Ok(keep) = u32::try_from(keep) else {
            continue;
        };
        if keep > first {
            close_range(first, keep - 1);
        }
        first = keep + 1;
    }
    close_range(first, u32::MAX);
}

fn close_range(first: u32, last: u32) {
    // SAFETY: close_range touches only this process's fd table; nothing runs after it that
    // uses a closed fd (the closer keeps only the job's).
    unsafe { syscall3(libc::SYS_close_range, first as usize, last as usize, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn own_netns() -> (u64, u64) {
        let m = std::fs::metadata("/proc/self/ns/net").unwrap();
        (m.dev(), m.ino())
    }

    #[test]
    fn our_own_namespace_is_in_use_and_a_made_up_one_is_not() {
        assert!(netns_in_use(own_netns()));
        let (dev, ino) = own_netns();
        assert!(!netns_in_use((dev, ino ^ 0x5a5a_5a5a)));
    }

    #[test]
    fn the_dellink_message_names_the_link() {
        let mut name = [0u8; NAME_LEN];
        name[..6].copy_from_slice(b"vbtest");
        let m = dellink_message(&name);
        assert_eq!(
            u32::from_ne_bytes(m[0..4].try_into().unwrap()) as usize,
            m.len()
        );
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), libc::RTM_DELLINK);
        assert_eq!(&m[36..42], b"vbtest");
        assert_eq!(m[42], 0);
    }
}
