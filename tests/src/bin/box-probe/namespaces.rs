//! Namespaces: creating any (unshare, clone, clone3) or joining one through its file (setns)
//! needs CAP_SYS_ADMIN, which a container does not have.

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

use crate::errno_of;

/// Each namespace kind with its clone flag.
const KINDS: [(&str, libc::c_int); 8] = [
    ("mnt", libc::CLONE_NEWNS),
    ("uts", libc::CLONE_NEWUTS),
    ("ipc", libc::CLONE_NEWIPC),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("time", libc::CLONE_NEWTIME),
];

/// A fork-like `clone(flags)`; a child, were one created, exits at once.
fn clone_with(flags: libc::c_int) -> libc::c_long {
    let flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: no stack and no tid pointers: fork semantics. A child only calls _exit.
    let rc = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    reap(rc)
}

/// `clone3` with `flags`: the filter cannot read its flags and must answer ENOSYS.
fn clone3_with(flags: libc::c_int) -> libc::c_long {
    let mut args = [0u64; 11]; // struct clone_args, CLONE_ARGS_SIZE_VER2
    args[0] = flags as u64;
    args[4] = libc::SIGCHLD as u64; // exit_signal
                                    // SAFETY: a valid clone_args of the size passed; no stack: fork semantics.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            args.as_ptr(),
            std::mem::size_of_val(&args),
        )
    };
    reap(rc)
}

fn reap(rc: libc::c_long) -> libc::c_long {
    if rc == 0 {
        // SAFETY: the child leaves at once, running nothing of the parent's.
        unsafe { libc::_exit(0) }
    }
    if rc > 0 {
        // SAFETY: waiting for the child we just created.
        unsafe { libc::waitpid(rc as i32, std::ptr::null_mut(), 0) };
        return 0;
    }
    rc
}

/// `unshare` and `clone` of each kind, `clone3`, then [`print_namespaces`].
pub(crate) fn namespaces() {
    for (kind, flag) in KINDS {
        // SAFETY: an integer argument; on success only this probe would move.
        let rc = unsafe { libc::syscall(libc::SYS_unshare, flag) };
        println!("unshare {kind}: {}", errno_of(rc));
    }
    // clone cannot create a time namespace (only unshare and clone3 can).
    for (kind, flag) in &KINDS[..7] {
        println!("clone {kind}: {}", errno_of(clone_with(*flag)));
    }
    println!(
        "clone3 user: {}",
        errno_of(clone3_with(libc::CLONE_NEWUSER))
    );
    print_namespaces();
}

/// Opens each namespace file and `setns`es into it, then [`print_namespaces`].
pub(crate) fn setns(paths: &[String]) {
    for path in paths {
        match std::fs::File::open(path) {
            Ok(file) => {
                println!("open {path}: 0");
                // SAFETY: an fd we own and an integer.
                let rc = unsafe { libc::syscall(libc::SYS_setns, file.as_raw_fd(), 0) };
                println!("setns {path}: {}", errno_of(rc));
            }
            Err(e) => println!("open {path}: {}", e.raw_os_error().unwrap_or(-1)),
        }
    }
    print_namespaces();
}

/// `self/KIND: INODE` and `pid1/KIND: INODE` for each namespace of ours and of PID 1 (so a
/// test sees whether we moved).
fn print_namespaces() {
    for who in ["self", "1"] {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{who}/ns")) else {
            continue;
        };
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for kind in names {
            if let Ok(meta) = std::fs::metadata(format!("/proc/{who}/ns/{kind}")) {
                let label = if who == "self" { "self" } else { "pid1" };
                println!("{label}/{kind}: {}", meta.ino());
            }
        }
    }
}
