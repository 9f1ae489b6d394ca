//! The slow parts of a bridged container's release, in a process of their own.
//!
//! - **A netfilter socket's close.** nf_tables frees what a committed transaction removed (a
//!   deleted rule) in a work item that first waits for an RCU grace period, and the release of
//!   any `NETLINK_NETFILTER` socket of that net namespace flushes the work
//!   (`nft_rcv_nl_event`): so `close` after a `DELRULE` batch blocks for a grace period, 10–16
//!   ms on the development VM, though the rules left the ruleset when the batch was
//!   acknowledged. The closer holds the last reference and closes it once box has closed its
//!   own (a pipe's end tells it).
//! - **The veth's fate.** A veth dies with the namespace that holds its container end, and the
//!   kernel tears an unused namespace down on its own; deleting the veth instead waits for
//!   RCU grace periods. So it is deleted only when a process is still in the namespace (a
//!   container that joined it with `container:NAME`, an `nsenter`), which takes a look at
//!   every process's `/proc/PID/ns/net` (~0.8 ms with 65 processes, more on a busy host).
//!
//! box goes on at once; the closer (adopted by init or the caller's subreaper, never left as
//! box's zombie) ends when both are done. It shares box's memory (`CLONE_VM`) rather than
//! copying it: no page tables to copy, and when box exits first, its memory is torn down by
//! the closer rather than on box's clock. It runs beside box, so it touches nothing box owns:
//! it lives on a stack mapped for it (which it unmaps as it exits), with every signal blocked,
//! and makes its system calls without libc ([`raw`]).

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

use netlink_sys::Socket;
use nix::fcntl::OFlag;
use nix::sched::{clone, CloneFlags};
use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::pipe2;

use crate::netns::NetnsId;

mod raw;
mod work;

use work::{Job, NAME_LEN};

/// The middle process's stack: it makes the closer and exits, while box waits (`CLONE_VFORK`).
const MIDDLE_STACK: usize = 16 * 1024;
/// The closer's mapping: its [`Job`] at the bottom, its stack above.
const CLOSER_MAPPING: usize = 16 * 1024;

/// What a release leaves to the closer.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    /// The socket that deleted the container's port rules.
    pub(crate) socket: Option<Socket>,
    /// The container's veth (its host end's name) and namespace: deleted if still held.
    pub(crate) veth: Option<(NetnsId, String)>,
}

/// Hands `leftovers` to a closer; does the work here, waiting, if none can be made. Whether a
/// closer took them.
pub(crate) fn finish(leftovers: Leftovers) -> bool {
    let Leftovers { socket, veth } = leftovers;
    let mut job = Job {
        socket: socket.as_ref().map_or(-1, |s| s.as_raw_fd()),
        box_closed: -1,
        netns: (0, 0),
        veth: [0; NAME_LEN],
        mapping: std::ptr::null_mut(),
        len: 0,
    };
    if let Some((netns, name)) = &veth {
        // Link names are at most 15 bytes (IFNAMSIZ with its NUL); box's are 14.
        if name.len() < NAME_LEN && !name.is_empty() {
            job.veth[..name.len()].copy_from_slice(name.as_bytes());
            job.netns = netns.id();
        }
    }
    if socket.is_none() && job.veth[0] == 0 {
        return false;
    }
    // Read by the closer to know that box's copy of the socket is closed.
    let pipe = match &socket {
        Some(_) => match pipe2(OFlag::O_CLOEXEC) {
            Ok(pipe) => Some(pipe),
            Err(_) => {
                job.settle_veth();
                return false;
            }
        },
        None => None,
    };
    job.box_closed = pipe.as_ref().map_or(-1, |(r, _)| r.as_raw_fd());
    let spawned = spawn(job);
    if !spawned {
        // Nothing else holds the socket: dropping it closes it, waiting.
        job.settle_veth();
    }
    drop(socket);
    drop(pipe);
    spawned
}

/// Starts the closer on a mapping of its own; whether it runs (the job is then its own).
fn spawn(job: Job) -> bool {
    let Some(len) = NonZeroUsize::new(CLOSER_MAPPING) else {
        return false;
    };
    // SAFETY: a new private mapping, aliased by nothing; only the closer uses it.
    let Ok(mapping) = (unsafe {
        mmap_anonymous(
            None,
            len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_PRIVATE | MapFlags::MAP_STACK,
        )
    }) else {
        return false;
    };
    let at = mapping.cast::<Job>();
    // SAFETY: the mapping is writable, page-aligned and larger than a Job.
    unsafe {
        at.write(Job {
            mapping: mapping.as_ptr(),
            len: CLOSER_MAPPING,
            ..job
        })
    };
    let started = start_closer(at);
    if !started {
        // SAFETY: no process was made that could use the mapping.
        let _ = unsafe { munmap(mapping, CLOSER_MAPPING) };
    }
    started
}

/// Makes the closer through a middle process, which exits at once: the closer is then no
/// child of box's (nothing for box or its caller to reap). Whether it runs.
fn start_closer(job: NonNull<Job>) -> bool {
    // The mapping's top, 16-byte aligned as both ABIs want.
    let top = job.as_ptr() as usize + CLOSER_MAPPING;
    let mut stack = vec![0u8; MIDDLE_STACK];
    let middle = Box::new(move || {
        // SAFETY: glibc's clone wrapper; the closer starts on its own stack in the shared
        // memory and runs only `closer_main`, which touches nothing but its Job and stack.
        // The middle may set errno: box is suspended until it exits.
        let pid = unsafe {
            libc::clone(
                closer_main,
                top as *mut c_void,
                libc::CLONE_VM,
                job.as_ptr().cast(),
            )
        };
        isize::from(pid < 0)
    });
    // Every signal blocked in the closer from its first instruction: a handler of box's would
    // run on the closer's stack against box's memory.
    let mut old = SigSet::empty();
    if pthread_sigmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut old),
    )
    .is_err()
    {
        return false;
    }
    // SAFETY: the callback runs on `stack`, which outlives it (box is suspended until the
    // middle exits), and touches nothing of box's but `top` and `job`.
    let made = unsafe {
        clone(
            middle,
            &mut stack,
            CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
            Some(libc::SIGCHLD),
        )
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    match made {
        // Already exited; reaping it leaves no zombie to box's caller.
        Ok(pid) => matches!(waitpid(pid, None), Ok(WaitStatus::Exited(_, 0))),
        Err(_) => false,
    }
}

/// The closer: its job, then exit, unmapping its own stack.
extern "C" fn closer_main(job: *mut c_void) -> libc::c_int {
    // SAFETY: `job` is the Job written by `spawn` before the clone, which nothing else
    // writes; the work makes only raw system calls on the closer's own fds and stack, and
    // nothing returns into memory the closer has unmapped.
    unsafe {
        let job = job.cast::<Job>().read();
        job.run_detached();
        raw::unmap_and_exit(job.mapping, job.len)
    }
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
    fn the_closer_closes_the_socket_and_leaves_no_child_behind() {
        let mut socket = Socket::new(crate::nfnl::NETLINK_NETFILTER).unwrap();
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
        let leftovers = Leftovers {
            socket: Some(socket),
            veth: None,
        };
        assert!(finish(leftovers), "no closer was made");
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
