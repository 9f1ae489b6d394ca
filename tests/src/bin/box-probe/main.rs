//! `box-probe`: a tiny program the end-to-end tests bind-mount into a container to ask the
//! kernel what the container's process may do. Each mode prints `NAME: VALUE` lines; for a
//! syscall the value is its errno (0 = it succeeded). Built by cargo next to the tests.
//!
//! ```text
//! box-probe status            Cap*, NoNewPrivs and Seccomp lines of /proc/self/status
//! box-probe denied            mount, unshare(CLONE_NEWUSER), keyctl, kexec_load, reboot
//! box-probe ptrace-parent     PTRACE_SEIZE of the parent (box, with pid = "host")
//! box-probe bind PORT         bind 0.0.0.0:PORT (TCP)
//! box-probe chown PATH UID    chown PATH to UID:UID
//! box-probe mkdir PATH        mkdir PATH
//! box-probe euid              the effective uid
//! ```
//!
//! Attack modes (the attack suite, `tests/tests/attacks`), one module each:
//!
//! ```text
//! box-probe privileged        kernel-global syscalls with harmless arguments (privileged.rs)
//! box-probe namespaces        unshare/clone of each namespace kind, then our namespaces
//!                             (namespaces.rs)
//! box-probe setns PATH...     open and setns each namespace file, then our namespaces
//! box-probe mounts            mount, umount2, pivot_root, the new mount API (mounts.rs)
//! box-probe remount DIR [F]   make a read-only mount writable; then write F in it
//! box-probe open-write P...   open each path O_WRONLY, never writing (files.rs)
//! box-probe sysctl-bump PATH  read N, open O_WRONLY, write N+1 only if the open worked
//! box-probe walk MARKER NEW [START...]
//!                             from each fd, cwd and root of ours and PID 1's (and each
//!                             START), walk `..` up: read MARKER, create NEW (escape.rs)
//! box-probe chroot MARKER NEW the classic chroot escape, then the same search
//! ```

mod escape;
mod files;
mod mounts;
mod namespaces;
mod privileged;

use std::ffi::CString;
use std::os::fd::FromRawFd;
use std::process::ExitCode;

pub(crate) fn errno_of(rc: libc::c_long) -> i32 {
    if rc == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

/// The errno of a call that returns an fd, closing the fd were the call allowed.
pub(crate) fn closing(rc: libc::c_long) -> i32 {
    let errno = errno_of(rc);
    if rc >= 0 {
        // SAFETY: the kernel just returned this fd to us and nothing else owns it.
        drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(rc as i32) });
    }
    errno
}

pub(crate) fn io_errno(result: std::io::Result<()>) -> i32 {
    result.err().map_or(0, |e| e.raw_os_error().unwrap_or(-1))
}

pub(crate) fn c(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

/// Syscalls Docker's defaults refuse, with arguments that could never do harm: were one
/// allowed, it would fail with EINVAL/EFAULT/ENOENT, never act.
fn denied() {
    let target = c("/nonexistent-box-probe");
    let (none, tmpfs) = (c("none"), c("tmpfs"));
    // Each errno is read right after its call, before the next one overwrites it.
    // SAFETY: (all calls) raw syscalls with valid NUL-terminated strings or plain integers.
    let checks: [(&str, i32); 5] = unsafe {
        [
            (
                "mount",
                errno_of(libc::syscall(
                    libc::SYS_mount,
                    none.as_ptr(),
                    target.as_ptr(),
                    tmpfs.as_ptr(),
                    0,
                    0,
                )),
            ),
            (
                "unshare(CLONE_NEWUSER)",
                errno_of(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER)),
            ),
            // KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), do not create.
            (
                "keyctl",
                errno_of(libc::syscall(libc::SYS_keyctl, 0, -3, 0)),
            ),
            // Undefined flags: even with CAP_SYS_BOOT this could only fail with EINVAL.
            (
                "kexec_load",
                errno_of(libc::syscall(libc::SYS_kexec_load, 0, 0, 0, 0xffff_0000u64)),
            ),
            // Bad magic: even with CAP_SYS_BOOT this could only fail with EINVAL.
            (
                "reboot",
                errno_of(libc::syscall(libc::SYS_reboot, 0, 0, 0, 0)),
            ),
        ]
    };
    for (name, errno) in checks {
        println!("{name}: {errno}");
    }
}

fn run(args: &[String]) -> Option<()> {
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(1)? {
        "status" => {
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            for line in status.lines().filter(|l| {
                l.starts_with("Cap") || l.starts_with("NoNewPrivs:") || l.starts_with("Seccomp:")
            }) {
                println!("{line}");
            }
        }
        "denied" => denied(),
        "ptrace-parent" => {
            // SEIZE does not stop the tracee, should it ever succeed; exiting detaches.
            // SAFETY: getppid cannot fail; ptrace takes plain integers here.
            let rc = unsafe {
                libc::syscall(libc::SYS_ptrace, libc::PTRACE_SEIZE, libc::getppid(), 0, 0)
            };
            println!("ptrace: {}", errno_of(rc));
        }
        "bind" => {
            let port: u16 = arg(2)?.parse().ok()?;
            let result = std::net::TcpListener::bind(("0.0.0.0", port)).map(drop);
            println!("bind {port}: {}", io_errno(result));
        }
        "chown" => {
            let uid: u32 = arg(3)?.parse().ok()?;
            let result = std::os::unix::fs::chown(arg(2)?, Some(uid), Some(uid));
            println!("chown: {}", io_errno(result));
        }
        "mkdir" => println!("mkdir: {}", io_errno(std::fs::create_dir(arg(2)?))),
        "privileged" => privileged::syscalls(),
        "namespaces" => namespaces::namespaces(),
        "setns" => namespaces::setns(args.get(2..)?),
        "mounts" => mounts::mounts(),
        "remount" => mounts::remount(arg(2)?, arg(3)),
        "open-write" => files::open_write(args.get(2..)?),
        "sysctl-bump" => files::sysctl_bump(arg(2)?)?,
        "walk" => escape::walk(arg(2)?, arg(3)?, args.get(4..)?),
        "chroot" => escape::chroot(arg(2)?, arg(3)?),
        // SAFETY: geteuid cannot fail and touches no memory.
        "euid" => println!("euid: {}", unsafe { libc::geteuid() }),
        _ => return None,
    }
    Some(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Some(()) => ExitCode::SUCCESS,
        None => {
            eprintln!("box-probe: bad arguments {args:?}");
            ExitCode::from(2)
        }
    }
}
