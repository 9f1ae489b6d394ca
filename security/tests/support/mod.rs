//! Fork-and-check harness for the root tests: the child applies a prepared config to itself,
//! then checks in-process or execs this test binary as a probe (the probe sees the state a
//! container's process would see after execve). The child reports through a pipe.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use box_security::Prepared;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, ForkResult};

/// The environment variable that turns `probe_entry` into a probe.
pub const PROBE_ENV: &str = "BOX_SECURITY_PROBE";

/// Forking from a multi-threaded test process is only safe while no other test forks.
static SERIAL: Mutex<()> = Mutex::new(());

/// What the child reported.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub output: String,
}

impl Outcome {
    /// The value of a `/proc/self/status` field the probe printed, e.g. `CapEff`.
    pub fn status(&self, key: &str) -> Option<String> {
        self.output.lines().find_map(|line| {
            let rest = line.strip_prefix("PROBE ")?;
            let (k, v) = rest.split_once(':')?;
            (k == key).then(|| v.trim().to_string())
        })
    }
}

/// Writes a line to the report pipe without touching Rust's stdout lock (another thread of the
/// parent may have held it at fork time).
pub fn say(fd: RawFd, msg: &str) {
    let line = format!("{msg}\n");
    // SAFETY: writing a valid buffer to an fd this process owns.
    unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
}

/// An exec of this test binary in probe mode `mode`, prepared before the fork.
pub struct Probe {
    path: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
}

impl Probe {
    /// The arguments that run only `probe_entry` of this test binary.
    pub const ARGS: [&'static str; 5] = [
        "probe_entry",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ];

    pub fn new(mode: &str) -> Probe {
        Probe::at(&std::env::current_exe().expect("current_exe"), mode)
    }

    pub fn at(path: &std::path::Path, mode: &str) -> Probe {
        let c = |s: &str| CString::new(s).expect("no NUL");
        Probe {
            path: c(path.to_str().expect("utf-8 path")),
            argv: std::iter::once("probe").chain(Probe::ARGS).map(c).collect(),
            env: vec![c(&format!("{PROBE_ENV}={mode}"))],
        }
    }

    /// Replaces the child with the probe, its stdout/stderr on `fd`. Returns only on failure.
    pub fn exec(&self, fd: RawFd) -> i32 {
        // SAFETY: dup2 onto the standard fds of this (single-threaded, forked) child.
        unsafe {
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
        }
        let err = nix::unistd::execve(&self.path, &self.argv, &self.env).unwrap_err();
        say(fd, &format!("execve probe: {err}"));
        103
    }
}

/// Forks; the child runs `setup` (still privileged), applies `prepared`, then `check`, whose
/// return value is its exit code. Exit codes 100..=102 mean setup/identity/restrictions failed.
pub fn in_child(
    prepared: &Prepared,
    setup: impl FnOnce(RawFd) -> Result<(), String>,
    check: impl FnOnce(RawFd) -> i32,
) -> Outcome {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (read_end, write_end): (OwnedFd, OwnedFd) = pipe().expect("pipe");
    // SAFETY: the child only runs the closures below and then _exit()s; it never returns into
    // the test harness.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            drop(read_end);
            let fd = write_end.as_raw_fd();
            let code = catch_unwind(AssertUnwindSafe(|| {
                if let Err(e) = setup(fd) {
                    say(fd, &format!("setup: {e}"));
                    return 100;
                }
                if let Err(e) = prepared.apply_identity() {
                    say(fd, &format!("apply_identity: {e}"));
                    return 101;
                }
                if let Err(e) = prepared.apply_restrictions() {
                    say(fd, &format!("apply_restrictions: {e}"));
                    return 102;
                }
                check(fd)
            }))
            .unwrap_or(120);
            // SAFETY: leave without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut output = String::new();
            std::fs::File::from(read_end)
                .read_to_string(&mut output)
                .expect("read child report");
            let code = match waitpid(child, None).expect("waitpid") {
                WaitStatus::Exited(_, code) => code,
                WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
                other => panic!("unexpected wait status {other:?}"),
            };
            Outcome { code, output }
        }
    }
}

/// No setup.
pub fn nothing(_: RawFd) -> Result<(), String> {
    Ok(())
}

/// A fresh network namespace, so binding port 80 touches nothing on the host.
pub fn new_netns(_: RawFd) -> Result<(), String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("unshare(CLONE_NEWNET): {e}"))
}

/// Binds 0.0.0.0:80; returns 0 or the errno.
pub fn bind_port_80() -> i32 {
    match std::net::TcpListener::bind(("0.0.0.0", 80)) {
        Ok(_) => 0,
        Err(e) => e.raw_os_error().unwrap_or(-1),
    }
}

/// The errno of a raw syscall (0 on success).
pub fn errno_of(rc: libc::c_long) -> i32 {
    if rc == -1 {
        nix::errno::Errno::last_raw()
    } else {
        0
    }
}
