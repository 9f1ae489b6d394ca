//! `box-masks`: both sides of the masked-paths race (tests/tests/attacks/masks.rs), built by
//! cargo next to the tests.
//!
//! ```text
//! box-masks swap DIR A B         exchange DIR/A and DIR/B (renameat2 RENAME_EXCHANGE) in a
//!                                tight loop, forever: the attacker, in a container that can
//!                                write another container's root
//! box-masks check VALUE DIR...   for each DIR that is a procfs, what a container could do
//!                                with it: the victim
//! ```
//!
//! `check` prints `PATH: VALUE` lines:
//! - `DIR: procfs` or `DIR: not procfs` (then nothing else for it);
//! - `DIR/F: masked` or `DIR/F: exposed` for each of Docker's masked files this kernel has
//!   (masked = the null device, 1:3);
//! - `DIR/D: ro` or `DIR/D: rw` for each of Docker's read-only paths this kernel has, as
//!   statvfs reports the mount;
//! - `DIR/sys/fs/lease-break-time: ERRNO`: writing VALUE to that host-wide sysctl (0 = it was
//!   written; 30 = EROFS, refused).
//!
//! All of them are looked up relative to DIR, opened once: the attacker renames entries of
//! the root meanwhile.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const MASKED: &[&str] = &[
    "kcore",
    "keys",
    "latency_stats",
    "timer_list",
    "timer_stats",
    "sched_debug",
];
const READ_ONLY: &[&str] = &["bus", "fs", "irq", "sys", "sysrq-trigger"];
const SYSCTL: &str = "sys/fs/lease-break-time";

fn c_path(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

fn swap(dir: &str, a: &str, b: &str) -> Option<()> {
    let (dir, a, b) = (
        c_path(Path::new(dir))?,
        CString::new(a).ok()?,
        CString::new(b).ok()?,
    );
    // SAFETY: a NUL-terminated path; the fd is ours and lives until exit.
    let fd = unsafe { libc::open(dir.as_ptr(), libc::O_PATH | libc::O_DIRECTORY) };
    if fd < 0 {
        eprintln!("box-masks: open: {}", std::io::Error::last_os_error());
        return None;
    }
    loop {
        // SAFETY: a live directory fd and NUL-terminated names.
        let rc = unsafe { libc::renameat2(fd, a.as_ptr(), fd, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if rc != 0 {
            eprintln!("box-masks: renameat2: {}", std::io::Error::last_os_error());
            return None;
        }
    }
}

/// An fd opened relative to `dir` (an fd), or the errno.
fn open_at(dir: libc::c_int, name: &str, flags: libc::c_int) -> Result<libc::c_int, i32> {
    let name = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: a live directory fd and a NUL-terminated name.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1))
    } else {
        Ok(fd)
    }
}

fn close(fd: libc::c_int) {
    // SAFETY: an fd this program opened and no longer uses.
    unsafe { libc::close(fd) };
}

fn is_procfs(fd: libc::c_int) -> bool {
    // SAFETY: fstatfs fills the zeroed struct we pass.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::fstatfs(fd, &mut st) == 0 && st.f_type as i64 == PROC_SUPER_MAGIC
    }
}

/// Whether the mount `fd` is on is read-only.
fn read_only(fd: libc::c_int) -> Option<bool> {
    // SAFETY: fstatvfs fills the zeroed struct we pass.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::fstatvfs(fd, &mut st) == 0).then_some(st.f_flag & libc::ST_RDONLY != 0)
    }
}

/// The null device (1:3), by fd.
fn is_null(fd: libc::c_int) -> bool {
    // SAFETY: fstat fills the zeroed struct we pass.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFCHR
            && st.st_rdev == libc::makedev(1, 3)
    }
}

/// Opens each of `dirs` once; `None` for those that are not a procfs.
fn open_all(dirs: &[String]) -> Vec<Option<libc::c_int>> {
    dirs.iter()
        .map(
            |dir| match open_at(libc::AT_FDCWD, dir, libc::O_PATH | libc::O_DIRECTORY) {
                Ok(fd) if is_procfs(fd) => Some(fd),
                Ok(fd) => {
                    close(fd);
                    None
                }
                Err(_) => None,
            },
        )
        .collect()
}

/// Everything is looked up relative to DIR opened once: the attacker keeps renaming entries
/// of the root while this runs, and a path walked again could land elsewhere. For the same
/// reason each of DIRS can miss the procfs while the names move under the lookups; they are
/// opened again until one is it (it is at one of them).
fn check(value: &str, dirs: &[String]) {
    let mut fds = open_all(dirs);
    for _ in 0..10_000 {
        if fds.iter().any(Option::is_some) {
            break;
        }
        fds = open_all(dirs);
    }
    for (dir, fd) in dirs.iter().zip(fds) {
        let Some(fd) = fd else {
            println!("{dir}: not procfs");
            continue;
        };
        println!("{dir}: procfs");
        for name in MASKED {
            if let Ok(f) = open_at(fd, name, libc::O_PATH | libc::O_NOFOLLOW) {
                let state = if is_null(f) { "masked" } else { "exposed" };
                println!("{dir}/{name}: {state}");
                close(f);
            }
        }
        for name in READ_ONLY {
            if let Ok(f) = open_at(fd, name, libc::O_PATH) {
                let state = match read_only(f) {
                    Some(true) => "ro",
                    Some(false) => "rw",
                    None => "unknown",
                };
                println!("{dir}/{name}: {state}");
                close(f);
            }
        }
        let written = match open_at(fd, SYSCTL, libc::O_WRONLY) {
            Ok(f) => {
                let text = format!("{value}\n");
                // SAFETY: writes a live buffer to an fd this program opened.
                let n = unsafe { libc::write(f, text.as_ptr().cast(), text.len()) };
                let errno = if n < 0 {
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
                } else {
                    0
                };
                close(f);
                errno
            }
            Err(errno) => errno,
        };
        println!("{dir}/{SYSCTL}: {written}");
        close(fd);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let ok = match args.get(1).map(String::as_str) {
        Some("swap") if args.len() == 5 => swap(&args[2], &args[3], &args[4]).is_some(),
        Some("check") if args.len() >= 4 => {
            check(&args[2], &args[3..]);
            true
        }
        _ => {
            eprintln!("box-masks: bad arguments {args:?}");
            false
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
