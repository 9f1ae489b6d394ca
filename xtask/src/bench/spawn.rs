//! Starting one measured process and waiting for it with `wait4`, which gives both the exit
//! status and the peak RSS the kernel recorded for it.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// One finished run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time from just before the spawn to the return of `wait4`.
    pub ms: f64,
    /// `ru_maxrss` of the process (KiB): the largest RSS of it or of any descendant it reaped,
    /// as GNU time's `%M` reports it.
    pub maxrss_kib: u64,
    /// The exit code, or 128 + the signal that killed it.
    pub code: i32,
    pub pid: i32,
}

/// A command ready to spawn, stdio closed. Every measured command goes through the same path
/// (std's fork + exec, forced by the `pre_exec` hook), so spawning costs the same for all.
/// With `mntns`, the child enters that mount namespace just before `execve`.
pub fn command(argv: &[OsString], mntns: Option<RawFd>) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the hook runs in the forked child and only calls setns(2), which is
    // async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = mntns {
                if libc::setns(fd, libc::CLONE_NEWNS) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd
}

/// Spawns `cmd` and returns its pid; reap it with [`wait`].
pub fn start(cmd: &mut Command) -> Result<i32> {
    let child = cmd.spawn().with_context(|| format!("spawn {cmd:?}"))?;
    // std never reaps a dropped Child; `wait` does, with wait4.
    Ok(child.id() as i32)
}

/// Waits for `pid` and returns (exit code or 128 + signal, ru_maxrss in KiB).
pub fn wait(pid: i32) -> Result<(i32, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals of the right types.
        let ret = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if ret == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            bail!("wait4({pid}): {err}");
        }
    }
    Ok((exit_code(status), usage.ru_maxrss.max(0) as u64))
}

/// Makes the bench the reaper of its orphans (`PR_SET_CHILD_SUBREAPER`): a detached
/// container's monitor (box, conmon) or its PID 1 (`crun run -d`, `runc run -d`) becomes the
/// bench's child when the command that started it exits. The bench can then see everything a
/// runtime leaves running, and reaps it at once when it ends, as a real init would (this VM's
/// PID 1 reaps only every few seconds, and `runc delete` polls for its container's end).
pub fn become_subreaper() -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        bail!(
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Waits for every pid in `pids` and returns their exit codes (or 128 + signal), in order.
/// Any other child that ends meanwhile (an orphan the bench inherited) is reaped too.
pub fn wait_all(pids: &[i32]) -> Result<Vec<i32>> {
    let mut codes: Vec<Option<i32>> = vec![None; pids.len()];
    let mut left = pids.len();
    while left > 0 {
        let mut status: libc::c_int = 0;
        // SAFETY: a pointer to a live local; no rusage wanted.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            bail!("waitpid: {err} ({left} children not reaped)");
        }
        if let Some(i) = pids.iter().position(|&p| p == pid) {
            codes[i] = Some(exit_code(status));
            left -= 1;
        }
    }
    Ok(codes.into_iter().map(|c| c.unwrap_or(-1)).collect())
}

/// Reaps every child that has already ended, without waiting.
pub fn reap_orphans() {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: a pointer to a live local.
        if unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } <= 0 {
            break;
        }
    }
}

fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

/// Runs `cmd` to its end, timed.
pub fn timed(cmd: &mut Command) -> Result<Sample> {
    let t0 = Instant::now();
    let pid = start(cmd)?;
    let (code, maxrss_kib) = wait(pid)?;
    Ok(Sample {
        ms: t0.elapsed().as_secs_f64() * 1e3,
        maxrss_kib,
        code,
        pid,
    })
}

/// Runs the command again with its output captured, to say why it failed.
pub fn why_failed(argv: &[OsString], mntns: Option<RawFd>) -> String {
    let mut cmd = command(argv, mntns);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match cmd.output() {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let text = if text.is_empty() {
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            } else {
                text
            };
            let last = text.lines().last().unwrap_or("").to_string();
            format!("{} ({})", last, out.status)
        }
        Err(e) => format!("cannot run {:?}: {e}", argv[0]),
    }
}

/// Whether `bin` is an executable file in `$PATH`; returns its path.
pub fn which(bin: &str) -> Option<std::path::PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(bin))
        .find(|p| p.is_file())
}
