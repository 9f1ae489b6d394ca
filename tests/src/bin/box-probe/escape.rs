//! Walking out of the container's root with `..`: from every fd, cwd and root of ours and of
//! PID 1 (`/proc/self/fd/N`, `/proc/1/cwd`, …), and after the classic chroot escape.
//!
//! At each level the walk reads `MARKER` and tries to create `NEW`. The test puts one
//! `MARKER` inside the container's root ("inside": the walk works) and one just outside it on
//! the host ("outside": it must never be read); on the host, `NEW` must appear nowhere outside.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::c;

/// Deeper than any path the test's root lives at.
const MAX_LEVELS: usize = 64;

fn openat(dir: &OwnedFd, name: &CString, flags: libc::c_int) -> Result<OwnedFd, i32> {
    // SAFETY: a live dirfd, a NUL-terminated name; mode is read only with O_CREAT.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1));
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open(path: &str) -> Result<OwnedFd, i32> {
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(c(path).as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1));
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn identity(fd: &OwnedFd) -> Option<(u64, u64)> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: a live fd and a buffer of the right size, read only if fstat succeeded.
    let ok = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } == 0;
    ok.then(|| {
        // SAFETY: fstat filled it.
        let st = unsafe { st.assume_init() };
        (st.st_dev, st.st_ino)
    })
}

/// Walks `..` up from `start`; returns `found=A,B levels=N end=top|errno E`.
fn search(start: OwnedFd, marker: &CString, new: &CString) -> String {
    let dotdot = c("..");
    let mut found = Vec::new();
    let mut cur = start;
    let mut end = String::from("deep");
    let mut levels = 0;
    while levels < MAX_LEVELS {
        if let Ok(fd) = openat(&cur, marker, libc::O_RDONLY | libc::O_NOFOLLOW) {
            let mut text = String::new();
            let _ = std::fs::File::from(fd).read_to_string(&mut text);
            found.push(text.trim().to_string());
        }
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        drop(openat(&cur, new, flags));
        let parent = match openat(&cur, &dotdot, libc::O_PATH | libc::O_DIRECTORY) {
            Ok(parent) => parent,
            Err(errno) => {
                end = format!("errno {errno}");
                break;
            }
        };
        if identity(&parent) == identity(&cur) {
            end = String::from("top");
            break;
        }
        cur = parent;
        levels += 1;
    }
    format!("found={} levels={levels} end={end}", found.join(","))
}

fn entries(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Prints `walk START: found=… levels=N end=…` (or `walk START: open errno E`) for each
/// start: our fds and PID 1's, both cwds and roots, `/`, `.`, and `extra`.
pub(crate) fn walk(marker: &str, new: &str, extra: &[String]) {
    let (marker, new) = (c(marker), c(new));
    let mut starts = entries("/proc/self/fd");
    starts.extend(entries("/proc/1/fd"));
    for link in [
        "/proc/self/cwd",
        "/proc/self/root",
        "/proc/1/cwd",
        "/proc/1/root",
    ] {
        starts.push(link.to_string());
    }
    starts.extend(["/", "."].map(String::from));
    starts.extend(extra.iter().cloned());
    for start in starts {
        match open(&start) {
            Ok(fd) => println!("walk {start}: {}", search(fd, &marker, &new)),
            Err(errno) => println!("walk {start}: open errno {errno}"),
        }
    }
}

/// The classic escape (CAP_SYS_CHROOT is one of the defaults): chroot into a subdirectory
/// while the cwd stays outside it, `..` up from there, chroot to where that led; then search
/// from the new `/`.
pub(crate) fn chroot(marker: &str, new: &str) {
    let jail = "/tmp/box-probe-jail";
    let _ = std::fs::create_dir_all(jail);
    let dotdot = c("..");
    // SAFETY: (all calls) NUL-terminated paths.
    let (chrooted, rechrooted) = unsafe {
        let chrooted = crate::errno_of(libc::chroot(c(jail).as_ptr()).into());
        for _ in 0..MAX_LEVELS {
            libc::chdir(dotdot.as_ptr());
        }
        (
            chrooted,
            crate::errno_of(libc::chroot(c(".").as_ptr()).into()),
        )
    };
    println!("chroot jail: {chrooted}");
    println!("chroot .: {rechrooted}");
    match open("/") {
        Ok(fd) => println!("escaped /: {}", search(fd, &c(marker), &c(new))),
        Err(errno) => println!("escaped /: open errno {errno}"),
    }
}
