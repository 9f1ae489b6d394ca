//! Closing a netfilter socket without waiting for nf_tables' garbage.
//!
//! nf_tables frees what a committed transaction removed (a deleted rule) in a work item that
//! first waits for an RCU grace period, and the release of any `NETLINK_NETFILTER` socket of
//! that net namespace flushes the work (`nft_rcv_nl_event`): so `close` after a `DELRULE`
//! batch blocks for a grace period, 10–16 ms on the development VM, though the rules left the
//! ruleset when the batch was acknowledged. A grandchild that holds the last reference closes
//! the socket instead, once box has closed its own (a pipe's end tells it): box goes on at
//! once, and the grandchild (adopted by init or the caller's subreaper, never left as box's
//! zombie) ends when the kernel has freed the rules.

use std::os::fd::{AsRawFd, RawFd};

use netlink_sys::Socket;
use nix::fcntl::OFlag;
use nix::sched::{clone, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::pipe2;

/// The middle process's stack: it runs one fork and exits.
const MIDDLE_STACK: usize = 16 * 1024;

/// Closes `socket` in a short-lived grandchild, so that the caller does not wait for the
/// grace period; closes it here if the processes cannot be made.
pub(super) fn close_unwaited(socket: Socket) {
    let fd = socket.as_raw_fd();
    let Ok((box_closed, closing)) = pipe2(OFlag::O_CLOEXEC) else {
        return;
    };
    let wait_fd = box_closed.as_raw_fd();
    let mut stack = vec![0u8; MIDDLE_STACK];
    // The middle shares box's memory and box waits until it has exited (CLONE_VFORK), so
    // only one copy of box's memory is made: the grandchild's.
    let middle = Box::new(move || {
        // SAFETY: a raw fork (no glibc bookkeeping in memory the middle shares with box);
        // the grandchild, on its own copy of this stack, calls only async-signal-safe
        // close_range(2), read(2), close(2) and _exit(2) and never returns.
        unsafe {
            if libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) == 0 {
                close_all_but(fd.min(wait_fd), fd.max(wait_fd));
                // End of file once box (and the middle) closed the pipe's other end: box's
                // copy of the socket is closed by then, so this close is the last.
                let mut byte = 0u8;
                while libc::read(wait_fd, std::ptr::addr_of_mut!(byte).cast(), 1) < 0
                    && *libc::__errno_location() == libc::EINTR
                {}
                libc::close(fd);
                libc::_exit(0);
            }
        }
        0
    });
    // SAFETY: the callback runs on `stack`, which outlives it (box is suspended until the
    // middle exits), and touches nothing of box's but `fd`.
    let made = unsafe {
        clone(
            middle,
            &mut stack,
            CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
            Some(libc::SIGCHLD),
        )
    };
    // The grandchild holds its copy from here on and closes it after these.
    drop(socket);
    drop(closing);
    drop(box_closed);
    if let Ok(pid) = made {
        // Already exited; reaping it leaves no zombie to box's caller.
        let _ = waitpid(pid, None);
    }
}

/// Closes every fd of this process but `low` and `high` (copies of box's locks and pipes
/// among them), so the grandchild holds nothing of box's but the socket while it waits.
fn close_all_but(low: RawFd, high: RawFd) {
    let (Ok(low), Ok(high)) = (u32::try_from(low), u32::try_from(high)) else {
        return;
    };
    let mut first = 0u32;
    for keep in [low, high] {
        if keep > first {
            close_range(first, keep - 1);
        }
        first = keep + 1;
    }
    close_range(first, u32::MAX);
}

fn close_range(first: u32, last: u32) {
    // SAFETY: close_range touches only this process's fd table; nothing runs after it that
    // uses a closed fd (the grandchild keeps only the two it goes on with).
    unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::time::{Duration, Instant};

    fn socket_inodes() -> String {
        std::fs::read_to_string("/proc/net/netlink").unwrap()
    }

    #[test]
    fn the_grandchild_closes_the_socket_and_leaves_no_child_behind() {
        let mut socket = Socket::new(super::super::NETLINK_NETFILTER).unwrap();
        socket.bind_auto().unwrap();
        let fd = socket.as_raw_fd();
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino()
            .to_string();
        let listed = |table: &str| {
            table
                .lines()
                .any(|l| l.split_whitespace().last() == Some(&inode))
        };
        assert!(listed(&socket_inodes()));
        close_unwaited(socket);
        // The middle process, a copy of this one, was reaped: no child of ours has our name.
        let comm = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok();
        let ours = comm("thread-self");
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            // Another test's thread may end meanwhile.
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for pid in children.split_whitespace() {
                assert_ne!(comm(pid), ours, "child {pid} was left");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while listed(&socket_inodes()) {
            assert!(
                Instant::now() < deadline,
                "socket {inode} still open after 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
