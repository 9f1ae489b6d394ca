//! Syscalls that act on the whole machine: a container's root must get EPERM for each (no
//! capability for it, and the default seccomp profile refuses it).
//!
//! Every argument is chosen so that the call could do no harm were it allowed: it would fail
//! on the argument (EINVAL, EFAULT, ENOENT, EBADF), be a no-op, or act on this probe only.

use crate::{c, closing, errno_of};

/// `FILEID_INO32_GEN`: the handle of inode `ino` (generation `gen`) of a filesystem.
#[repr(C)]
struct InodeHandle {
    handle_bytes: u32,
    handle_type: i32,
    ino: u32,
    gen: u32,
}

/// Prints `NAME: ERRNO` for each call.
pub(crate) fn syscalls() {
    let absent = c("/box-probe-absent");
    let module = c("box_probe_absent");
    let empty = c("");
    let bad_time = libc::timeval {
        tv_sec: 0,
        tv_usec: -1,
    };
    let bad_ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: -1,
    };
    // "Shocker" (2014): the root inode (2 on ext4) of the filesystem under the container's
    // root, opened by handle without any path, i.e. the host's /.
    let handle = InodeHandle {
        handle_bytes: 8,
        handle_type: 1,
        ino: 2,
        gen: 0,
    };
    let root = std::fs::File::open("/");
    let root_fd = root.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd);
    // SAFETY: (all calls) raw syscalls with valid NUL-terminated strings, pointers to live
    // values of the layout the kernel expects, NULL where the kernel accepts it, or integers.
    // Each errno is read right after its call, before the next one overwrites it.
    let checks: Vec<(&str, i32)> = unsafe {
        let pid = libc::getpid();
        vec![
            (
                "open_by_handle_at",
                closing(libc::syscall(
                    libc::SYS_open_by_handle_at,
                    root_fd,
                    &handle as *const InodeHandle,
                    libc::O_RDONLY | libc::O_CLOEXEC,
                )),
            ),
            (
                "init_module",
                errno_of(libc::syscall(
                    libc::SYS_init_module,
                    0usize,
                    0usize,
                    empty.as_ptr(),
                )),
            ),
            (
                "finit_module",
                errno_of(libc::syscall(libc::SYS_finit_module, -1, empty.as_ptr(), 0)),
            ),
            (
                "delete_module",
                errno_of(libc::syscall(
                    libc::SYS_delete_module,
                    module.as_ptr(),
                    libc::O_NONBLOCK,
                )),
            ),
            (
                "swapon",
                errno_of(libc::syscall(libc::SYS_swapon, absent.as_ptr(), 0)),
            ),
            (
                "swapoff",
                errno_of(libc::syscall(libc::SYS_swapoff, absent.as_ptr())),
            ),
            (
                "acct",
                errno_of(libc::syscall(libc::SYS_acct, absent.as_ptr())),
            ),
            (
                "settimeofday",
                errno_of(libc::syscall(libc::SYS_settimeofday, &bad_time, 0usize)),
            ),
            (
                "clock_settime",
                errno_of(libc::syscall(
                    libc::SYS_clock_settime,
                    libc::CLOCK_REALTIME,
                    &bad_ts,
                )),
            ),
            // BPF_PROG_LOAD without attributes.
            ("bpf", closing(libc::syscall(libc::SYS_bpf, 5, 0usize, 0))),
            (
                "perf_event_open",
                closing(libc::syscall(
                    libc::SYS_perf_event_open,
                    0usize,
                    0,
                    -1,
                    -1,
                    0,
                )),
            ),
            (
                "userfaultfd",
                closing(libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC)),
            ),
            (
                "fanotify_init",
                closing(libc::syscall(libc::SYS_fanotify_init, 0, libc::O_RDONLY)),
            ),
            // SYSLOG_ACTION_SIZE_BUFFER: reads nothing.
            (
                "syslog",
                errno_of(libc::syscall(libc::SYS_syslog, 10, 0usize, 0)),
            ),
            // QCMD(Q_SYNC, USRQUOTA) of every filesystem: writes back quota, changes none.
            (
                "quotactl",
                errno_of(libc::syscall(
                    libc::SYS_quotactl,
                    0x80_0001 << 8,
                    0usize,
                    0,
                    0usize,
                )),
            ),
            // KCMP_FILE of our own fd 0 with itself.
            (
                "kcmp",
                errno_of(libc::syscall(libc::SYS_kcmp, pid, pid, 0, 0, 0)),
            ),
            (
                "pidfd_getfd",
                closing(libc::syscall(libc::SYS_pidfd_getfd, -1, 0, 0)),
            ),
            ("setns", errno_of(libc::syscall(libc::SYS_setns, -1, 0))),
            (
                "socket(AF_VSOCK)",
                closing(libc::syscall(
                    libc::SYS_socket,
                    libc::AF_VSOCK,
                    libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                    0,
                )),
            ),
            // No params: EFAULT were it allowed.
            (
                "io_uring_setup",
                closing(libc::syscall(libc::SYS_io_uring_setup, 1, 0usize)),
            ),
            // ADDR_NO_RANDOMIZE: this probe only.
            (
                "personality",
                errno_of(libc::syscall(libc::SYS_personality, 0x004_0000)),
            ),
        ]
    };
    for (name, errno) in checks {
        println!("{name}: {errno}");
    }
    #[cfg(target_arch = "x86_64")]
    {
        // Level 0 and no ports: what every process already has.
        // SAFETY: integers only.
        let (iopl, ioperm) = unsafe {
            (
                errno_of(libc::syscall(libc::SYS_iopl, 0)),
                errno_of(libc::syscall(libc::SYS_ioperm, 0, 0, 0)),
            )
        };
        println!("iopl: {iopl}");
        println!("ioperm: {ioperm}");
    }
}
