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
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok((code, usage.ru_maxrss.max(0) as u64))
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
