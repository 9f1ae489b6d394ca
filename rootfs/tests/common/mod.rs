//! Harness for the root tests: run a closure as PID 1 of fresh mount, pid,
//! uts and ipc namespaces in a forked grandchild, and check afterwards that
//! the host's mount table did not change.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
pub mod checks;

use std::path::Path;

use nix::fcntl::OFlag;
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe2, ForkResult};

/// `ensure!(cond, "fmt", args)`: return Err(message) from the closure.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), format!($($msg)+)));
        }
    };
}

pub type Check = Result<(), String>;

/// Namespaces every test container gets.
const BASE: CloneFlags = CloneFlags::CLONE_NEWNS
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWUTS);

/// Runs `f` in new mount, pid, uts and ipc namespaces and panics with its
/// message if it fails. `tmp` is a host directory the test owns; mounts
/// under it are checked too.
pub fn in_container(tmp: &Path, f: impl FnOnce() -> Check) {
    in_namespaces(tmp, BASE | CloneFlags::CLONE_NEWIPC, f)
}

/// Like [`in_container`] but also in a new user namespace where root is
/// mapped to root only (so gid 5 is unmapped), sharing the host's IPC and
/// network namespaces: the rootless fallbacks (bound device nodes, bound
/// /sys, devpts without gid, no mqueue) are taken.
pub fn in_user_container(tmp: &Path, f: impl FnOnce() -> Check) {
    in_namespaces(tmp, BASE | CloneFlags::CLONE_NEWUSER, f)
}

fn in_namespaces(tmp: &Path, flags: CloneFlags, f: impl FnOnce() -> Check) {
    let before = mounts(tmp);
    let (rd, wr) = pipe2(OFlag::O_CLOEXEC).expect("pipe");
    // SAFETY: the child only runs the test body and leaves with _exit; it
    // never returns into the test harness.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            drop(rd);
            let code = child(wr, flags, f);
            // SAFETY: _exit is always safe; skips the harness's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(wr);
            let mut msg = String::new();
            let _ = std::fs::File::from(rd).read_to_string(&mut msg);
            let status = waitpid(child, None).expect("waitpid");
            assert_eq!(
                status,
                WaitStatus::Exited(child, 0),
                "container check failed: {msg}"
            );
            assert!(msg.is_empty(), "{msg}");
        }
    }
    let after = mounts(tmp);
    let leaked: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    assert!(leaked.is_empty(), "mounts leaked to the host: {leaked:#?}");
}

fn child(wr: OwnedFd, flags: CloneFlags, f: impl FnOnce() -> Check) -> i32 {
    if let Err(e) = unshare(flags) {
        report(&wr, &format!("unshare: {e}"));
        return 100;
    }
    if flags.contains(CloneFlags::CLONE_NEWUSER) {
        // Only the self-mapping is allowed from inside: 0 -> 0, one id.
        for (file, text) in [
            ("setgroups", "deny"),
            ("uid_map", "0 0 1"),
            ("gid_map", "0 0 1"),
        ] {
            if let Err(e) = std::fs::write(format!("/proc/self/{file}"), text) {
                report(&wr, &format!("write {file}: {e}"));
                return 101;
            }
        }
    }
    // SAFETY: as above; this child is single-threaded after the first fork.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            match res {
                Ok(Ok(())) => 0,
                Ok(Err(msg)) => {
                    report(&wr, &msg);
                    1
                }
                Err(_) => {
                    report(&wr, "test body panicked");
                    2
                }
            }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(wr);
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                _ => 3,
            }
        }
        Err(e) => {
            report(&wr, &format!("fork: {e}"));
            4
        }
    }
}

fn report(fd: &OwnedFd, msg: &str) {
    // SAFETY: writes a live buffer to an fd we own; short writes only lose text.
    unsafe { libc::write(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
}

/// The host mount points this crate could conceivably leak: `/`, the
/// staging and container paths, and anything under the test's own dir.
/// (Other tests on this machine may mount elsewhere, e.g. /run/netns.)
fn mounts(tmp: &Path) -> Vec<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let tmp = tmp.to_string_lossy();
    info.lines()
        .filter(|l| {
            let mp = l.split(' ').nth(4).unwrap_or("");
            mp == "/"
                || mp.starts_with(&*tmp)
                || mp.contains("newroot")
                || mp.contains("oldroot")
                || ["/tmp", "/proc", "/dev", "/usr", "/etc", "/bin", "/lib"]
                    .iter()
                    .any(|p| mp == *p || mp.starts_with(&format!("{p}/")))
                || (mp.starts_with("/sys") && !mp.starts_with("/sys/fs/cgroup"))
        })
        .map(str::to_owned)
        .collect()
}

/// The errno of an io::Error, for assertions.
pub fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// Numeric entries of /proc: the pids this pid namespace can see.
pub fn pids() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Filesystem type magic of `p`.
pub fn fs_type(p: &str) -> Result<nix::sys::statfs::FsType, String> {
    nix::sys::statfs::statfs(p)
        .map(|s| s.filesystem_type())
        .map_err(|e| format!("statfs {p}: {e}"))
}

/// Whether `p` is mounted read-only.
pub fn is_readonly(p: &str) -> Result<bool, String> {
    nix::sys::statvfs::statvfs(p)
        .map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
        .map_err(|e| format!("statvfs {p}: {e}"))
}
