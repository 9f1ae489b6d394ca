//! box's built-in default profile: the effect of Docker's default seccomp profile
//! (moby `profiles/seccomp/default.json`) written as Rust data.
//!
//! Differences, all deliberate:
//! - entries for architectures box cannot build filters for (ppc64le, s390x, riscv64) are
//!   left out; names that do not exist on an ABI are skipped there, as in Docker;
//! - Docker's `archMap` also lists x32 on x86_64; box does not filter x32 and kills it;
//! - `int` arguments (`socket`'s domain, `personality`'s persona) are compared on their low 32
//!   bits, so garbage in the upper register half cannot slip `AF_VSOCK` past the rule.
//!
//! Like Docker's since 25.0 (moby#46762), `io_uring_setup`/`_enter`/`_register` are not
//! allowed: operations submitted through a ring are never seen by seccomp.

use super::{
    Action, Applicability, Arch, ArchMapEntry, ArgCondition, CmpOp, KernelVersion, Profile,
    SyscallRule,
};
use crate::capabilities::Capability::{self, *};

/// Allowed for everyone.
#[rustfmt::skip]
const ALWAYS: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
    "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
    "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32",
    "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
    "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
    "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
    "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
];

/// Allowed with CAP_SYS_ADMIN: mounting, namespaces, and the like.
#[rustfmt::skip]
const SYS_ADMIN: &[&str] = &[
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
    "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
    "umount2", "unshare",
];

/// Other capability-gated groups: (capability, syscalls it unlocks).
#[rustfmt::skip]
const BY_CAPABILITY: &[(Capability, &[&str])] = &[
    (CAP_SYS_BOOT, &["reboot"]),
    (CAP_SYS_CHROOT, &["chroot"]),
    (CAP_SYS_MODULE, &["delete_module", "init_module", "finit_module"]),
    (CAP_SYS_PACCT, &["acct"]),
    (CAP_SYS_PTRACE, &["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                       "process_vm_writev", "ptrace"]),
    (CAP_SYS_RAWIO, &["iopl", "ioperm"]),
    (CAP_SYS_TIME, &["settimeofday", "stime", "clock_settime", "clock_settime64"]),
    (CAP_SYS_TTY_CONFIG, &["vhangup"]),
    (CAP_SYS_NICE, &["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
    (CAP_SYSLOG, &["syslog"]),
    (CAP_BPF, &["bpf"]),
    (CAP_PERFMON, &["perf_event_open"]),
];

/// Namespace-creating clone flags: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
pub(crate) const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

const AF_VSOCK: u64 = 40;

/// Personas Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the
/// 0xffffffff query.
const PERSONAS: [u64; 5] = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

fn rule(names: &[&str], action: Action) -> SyscallRule {
    SyscallRule {
        names: names.iter().map(|n| n.to_string()).collect(),
        action,
        args: Vec::new(),
        includes: Applicability::default(),
        excludes: Applicability::default(),
    }
}

fn arg(index: u8, op: CmpOp, value: u64, value_two: u64, low32: bool) -> ArgCondition {
    ArgCondition {
        index,
        op,
        value,
        value_two,
        low32,
    }
}

fn with_caps(names: &[&str], caps: &[Capability]) -> SyscallRule {
    let mut r = rule(names, Action::Allow);
    r.includes.caps = caps.to_vec();
    r
}

fn for_arches(names: &[&str], arches: &[&str]) -> SyscallRule {
    let mut r = rule(names, Action::Allow);
    r.includes.arches = arches.iter().map(|a| a.to_string()).collect();
    r
}

/// The built-in profile, in Docker's entry order.
pub(super) fn profile() -> Profile {
    let mut syscalls = vec![rule(ALWAYS, Action::Allow)];

    // Since 4.8 the kernel checks seccomp after ptrace, so ptrace cannot bypass the filter.
    let mut ptrace = rule(
        &["process_vm_readv", "process_vm_writev", "ptrace"],
        Action::Allow,
    );
    ptrace.includes.min_kernel = Some(KernelVersion { major: 4, minor: 8 });
    syscalls.push(ptrace);

    // Every socket family except AF_VSOCK (host/guest sockets).
    let mut socket = rule(&["socket"], Action::Allow);
    socket.args.push(arg(0, CmpOp::Ne, AF_VSOCK, 0, true));
    syscalls.push(socket);

    for persona in PERSONAS {
        let mut r = rule(&["personality"], Action::Allow);
        r.args.push(arg(0, CmpOp::Eq, persona, 0, true));
        syscalls.push(r);
    }

    // Arm's private calls (glibc sets its TLS with set_tls) and its renamed ones.
    syscalls.push(for_arches(
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        &["arm", "arm64"],
    ));
    syscalls.push(for_arches(&["arch_prctl"], &["amd64", "x32"]));
    syscalls.push(for_arches(&["modify_ldt"], &["amd64", "x32", "x86"]));
    syscalls.push(with_caps(&["open_by_handle_at"], &[CAP_DAC_READ_SEARCH]));
    syscalls.push(with_caps(SYS_ADMIN, &[CAP_SYS_ADMIN]));

    // Without CAP_SYS_ADMIN, clone may not create namespaces...
    let mut clone = rule(&["clone"], Action::Allow);
    clone
        .args
        .push(arg(0, CmpOp::MaskedEq, CLONE_NAMESPACE_FLAGS, 0, false));
    clone.excludes.caps = vec![CAP_SYS_ADMIN];
    syscalls.push(clone);

    // ...and clone3, whose flags live in memory a filter cannot read, reports ENOSYS so libc
    // falls back to clone.
    let mut clone3 = rule(&["clone3"], Action::Errno(libc::ENOSYS as u16));
    clone3.excludes.caps = vec![CAP_SYS_ADMIN];
    syscalls.push(clone3);

    for (cap, names) in BY_CAPABILITY {
        syscalls.push(with_caps(names, &[*cap]));
    }

    Profile {
        origin: "built-in default profile".to_string(),
        default_action: Action::Errno(libc::EPERM as u16),
        architectures: Vec::new(),
        // Docker's archMap, less x32: 32-bit programs follow the same rules.
        arch_map: [(Arch::X86_64, Arch::I386), (Arch::Aarch64, Arch::Arm)]
            .into_iter()
            .map(|(native, compat)| ArchMapEntry {
                architecture: native.scmp_name().to_string(),
                sub_architectures: vec![compat.scmp_name().to_string()],
            })
            .collect(),
        flags: 0,
        syscalls,
    }
}
