//! Changing the container's mounts: the classic ways out of a container's filesystem view
//! (mount a fresh procfs/sysfs/cgroupfs, bind `/`, unmount what hides or protects host files,
//! pivot_root, the new mount API), and making a read-only mount writable again.
//!
//! Were one allowed it would act in the container's own mount namespace only; the test checks
//! the host's mount table afterwards anyway.

use std::ffi::CString;

use crate::{c, closing, errno_of};

// From <linux/mount.h>; the libc crate does not export them on every target.
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const OPEN_TREE_CLONE: libc::c_int = 0x1;
const AT_RECURSIVE: libc::c_int = 0x8000;
const FSOPEN_CLOEXEC: libc::c_int = 0x1;
const FSPICK_CLOEXEC: libc::c_int = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn mount(src: Option<&CString>, target: &CString, fstype: Option<&CString>, flags: u64) -> i32 {
    let ptr = |s: Option<&CString>| s.map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: NUL-terminated strings or NULL where mount(2) accepts it; no data.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount,
            ptr(src),
            target.as_ptr(),
            ptr(fstype),
            flags,
            0usize,
        )
    };
    errno_of(rc)
}

fn umount(target: &CString) -> i32 {
    // SAFETY: a NUL-terminated path and an integer.
    errno_of(unsafe { libc::syscall(libc::SYS_umount2, target.as_ptr(), libc::MNT_DETACH) })
}

fn mount_setattr(target: &CString, attr: &MountAttr) -> i32 {
    // SAFETY: a NUL-terminated path, a live struct mount_attr and its size.
    errno_of(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            target.as_ptr(),
            0,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
}

fn clearing(bits: u64) -> MountAttr {
    MountAttr {
        attr_set: 0,
        attr_clr: bits,
        propagation: 0,
        userns_fd: 0,
    }
}

/// Prints `NAME: ERRNO` for each attempt.
pub(crate) fn mounts() {
    let scratch = "/tmp/box-probe-mounts";
    for sub in ["bind", "proc", "sys", "cgroup", "moved"] {
        let _ = std::fs::create_dir_all(format!("{scratch}/{sub}"));
    }
    let at = |sub: &str| c(&format!("{scratch}/{sub}"));
    let (root, proc, proc_sys, etc) = (c("/"), c("/proc"), c("/proc/sys"), c("/etc"));
    let mut checks: Vec<(&str, i32)> = vec![
        (
            "mount tmpfs on /etc",
            mount(Some(&c("tmpfs")), &etc, Some(&c("tmpfs")), 0),
        ),
        (
            "mount --rbind /",
            mount(Some(&root), &at("bind"), None, libc::MS_BIND | libc::MS_REC),
        ),
        // A fresh procfs or sysfs would have writable /proc/sys, /sys.
        (
            "mount proc",
            mount(Some(&c("proc")), &at("proc"), Some(&c("proc")), 0),
        ),
        (
            "mount sysfs",
            mount(Some(&c("sysfs")), &at("sys"), Some(&c("sysfs")), 0),
        ),
        // CVE-2022-0492: a v1 hierarchy of one's own, to write its release_agent.
        (
            "mount cgroup",
            mount(Some(&c("cgroup")), &at("cgroup"), Some(&c("cgroup")), 0),
        ),
        (
            "mount --make-rshared /",
            mount(None, &root, None, libc::MS_SHARED | libc::MS_REC),
        ),
        // Under the read-only /proc/sys is procfs's own, writable one.
        ("umount /proc/sys", umount(&proc_sys)),
        ("umount /proc", umount(&proc)),
        ("umount /", umount(&root)),
    ];
    // SAFETY: (all calls) NUL-terminated paths, NULL or integers.
    unsafe {
        checks.extend([
            (
                "fsopen",
                closing(libc::syscall(
                    libc::SYS_fsopen,
                    c"tmpfs".as_ptr(),
                    FSOPEN_CLOEXEC,
                )),
            ),
            (
                "fspick /",
                closing(libc::syscall(
                    libc::SYS_fspick,
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    FSPICK_CLOEXEC,
                )),
            ),
            (
                "open_tree / (clone)",
                closing(libc::syscall(
                    libc::SYS_open_tree,
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC,
                )),
            ),
            (
                "fsmount",
                closing(libc::syscall(libc::SYS_fsmount, -1, 0, 0)),
            ),
            (
                "move_mount /proc",
                errno_of(libc::syscall(
                    libc::SYS_move_mount,
                    libc::AT_FDCWD,
                    proc.as_ptr(),
                    libc::AT_FDCWD,
                    at("moved").as_ptr(),
                    0,
                )),
            ),
        ]);
    }
    let exec_ok = clearing(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    checks.push(("mount_setattr /proc", mount_setattr(&proc, &exec_ok)));
    // Last: were it allowed, what follows would run in a changed tree.
    // SAFETY: NUL-terminated paths.
    let pivot = unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) };
    checks.push(("pivot_root", errno_of(pivot)));
    for (name, errno) in checks {
        println!("{name}: {errno}");
    }
}

/// Tries to make the read-only mount at `dir` writable, then (with `file`, a file in it) to
/// change what is in it; unmounting it comes last.
pub(crate) fn remount(dir: &str, file: Option<&str>) {
    let target = c(dir);
    let mut checks: Vec<(String, i32)> = vec![
        (
            format!("remount,bind,rw {dir}"),
            mount(None, &target, None, libc::MS_REMOUNT | libc::MS_BIND),
        ),
        (
            format!("remount,rw {dir}"),
            mount(None, &target, None, libc::MS_REMOUNT),
        ),
        (
            format!("mount_setattr -rdonly {dir}"),
            mount_setattr(&target, &clearing(MOUNT_ATTR_RDONLY)),
        ),
    ];
    if let Some(file) = file {
        checks.extend(crate::files::change_in(dir, file));
    }
    checks.push((format!("umount {dir}"), umount(&target)));
    for (name, errno) in checks {
        println!("{name}: {errno}");
    }
}
