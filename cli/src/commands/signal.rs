//! `stop`, `kill`, `rm` and `wait`: signals to a container's PID 1, and waiting for its
//! monitor to record the end.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use super::parse;
use crate::name::Name;
use crate::state::{alive, ProcessId, Root, State, Status};

/// How long `rm -f` and `stop` wait for the monitor to record the end after SIGKILL.
pub(crate) const SETTLE: Duration = Duration::from_secs(10);

/// Runs `each` on every name, checked first; errors are printed and make the exit code 1.
fn for_each(names: &[String], mut each: impl FnMut(&Name) -> Result<()>) -> Result<i32> {
    let mut code = 0;
    for name in names {
        match parse(name).and_then(|name| each(&name)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("box: {e:#}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn stop(root: &Root, names: &[String], seconds: u64) -> Result<i32> {
    for_each(names, |name| {
        let state = root.load(name)?;
        let (Status::Running, Some(pid)) = (state.status(), state.pid) else {
            return Ok(()); // as Docker: stopping a stopped container is not an error
        };
        // PID 1 ignores SIGTERM unless it handles it: then only the timeout ends it.
        if send(&pid, Signal::SIGTERM)? && !wait_gone(&pid, Duration::from_secs(seconds))? {
            send(&pid, Signal::SIGKILL)?;
            wait_gone(&pid, SETTLE)?;
        }
        settle_or_gone(root, name, SETTLE)?;
        Ok(())
    })
}

pub fn kill(root: &Root, names: &[String], signal: &str) -> Result<i32> {
    let sig = parse_signal(signal)?;
    for_each(names, |name| {
        let state = root.load(name)?;
        match (state.status(), state.pid) {
            (Status::Running, Some(pid)) if send(&pid, sig)? => Ok(()),
            (status, _) => bail!("container {name} is {}, not running", status.as_str()),
        }
    })
}

pub fn rm(root: &Root, names: &[String], force: bool) -> Result<i32> {
    for_each(names, |name| remove(root, name, force))
}

/// `rm` of one container, printing nothing.
pub(crate) fn remove(root: &Root, name: &Name, force: bool) -> Result<()> {
    let mut state = root.load(name)?;
    let status = state.status();
    if matches!(status, Status::Running | Status::Created) {
        if !force {
            bail!(
                "container {name} is {}: stop it first, or use `box rm -f`",
                status.as_str()
            );
        }
        if let Some(pid) = state.pid {
            send(&pid, Signal::SIGKILL)?;
        }
    }
    // A monitor still alive is recording the end and removing the cgroup: let it finish.
    if state.monitor.is_some_and(|m| alive(&m)) {
        match settle_or_gone(root, name, SETTLE)? {
            Some(settled) => state = settled,
            // A foreground `box up` removes its container itself as it ends.
            None => return Ok(()),
        }
    } else if removed_meanwhile(root, name) {
        // The same, for one that had ended before we looked at it.
        return Ok(());
    }
    if state.status() == Status::Dead {
        // Its monitor died (kill -9) before it could clean up: do it here.
        remove_cgroup(&state)?;
    }
    match root.lock(name, false) {
        Ok(lock) => lock.remove(),
        Err(_) if removed_meanwhile(root, name) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether the record is gone: its owner (a foreground `box up`) removed it as it ended.
fn removed_meanwhile(root: &Root, name: &Name) -> bool {
    !root.dir(name).join("state.json").exists()
}

pub fn wait(root: &Root, name: &Name) -> Result<i32> {
    root.load(name)?;
    let state = settle(root, name, Duration::MAX)?;
    match (state.status(), state.exit_code) {
        (Status::Exited, Some(code)) => {
            println!("{code}");
            Ok(0)
        }
        (status, _) => bail!(
            "container {name} is {}: its monitor is gone, so its exit code is unknown",
            status.as_str()
        ),
    }
}

/// [`settle`] for a container whose owner removes it as it ends (a foreground `box up`):
/// `None` once its state is gone.
fn settle_or_gone(root: &Root, name: &Name, timeout: Duration) -> Result<Option<State>> {
    match settle(root, name, timeout) {
        Ok(state) => Ok(Some(state)),
        Err(_) if removed_meanwhile(root, name) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the monitor has recorded the end (or is gone); returns the state then.
pub(crate) fn settle(root: &Root, name: &Name, timeout: Duration) -> Result<State> {
    let start = Instant::now();
    loop {
        let state = root.load(name)?;
        let monitor_alive = state.monitor.is_some_and(|m| alive(&m));
        if matches!(state.status(), Status::Exited | Status::Dead) && !monitor_alive {
            return Ok(state);
        }
        if start.elapsed() >= timeout {
            bail!("container {name} did not stop within {timeout:?}");
        }
        if let Some(m) = state.monitor.filter(|_| monitor_alive) {
            wait_gone(&m, Duration::from_millis(200))?;
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Sends `sig` to exactly that process (through a pidfd, checked against its start time, so
/// a recycled pid is never hit). False when it is already gone.
pub(crate) fn send(p: &ProcessId, sig: Signal) -> Result<bool> {
    let Some(fd) = pidfd(p)? else {
        return Ok(false);
    };
    // SAFETY: pidfd_send_signal takes a pidfd we own, a signal number, no siginfo, no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            sig as i32,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    match Errno::result(ret) {
        Ok(_) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(errno) => Err(anyhow!("send {sig} to pid {}: {errno}", p.pid)),
    }
}

/// Waits up to `timeout` for the process to end; true when it did.
pub(crate) fn wait_gone(p: &ProcessId, timeout: Duration) -> Result<bool> {
    let Some(fd) = pidfd(p)? else {
        return Ok(true);
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_millis().min(60_000) as u16;
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(true),
            Err(errno) => return Err(anyhow!("poll pidfd of {}: {errno}", p.pid)),
        }
    }
}

/// A pidfd for this very process, or `None` when it is gone (or its pid was reused).
fn pidfd(p: &ProcessId) -> Result<Option<OwnedFd>> {
    // SAFETY: pidfd_open takes a pid and flags, and returns a new fd (close-on-exec).
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, p.pid, 0u32) };
    match Errno::result(ret) {
        // SAFETY: the kernel just gave us this fd; nobody else owns it.
        Ok(fd) => {
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            // Checked after opening: from now on the fd names this process, whatever its pid.
            Ok(alive(p).then_some(fd))
        }
        Err(Errno::ESRCH) => Ok(None),
        Err(errno) => Err(anyhow!("pidfd_open({}): {errno}", p.pid)),
    }
}

fn parse_signal(text: &str) -> Result<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| anyhow!("invalid signal number {n}"));
    }
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&full).map_err(|_| anyhow!("unknown signal {text:?}"))
}

fn remove_cgroup(state: &State) -> Result<()> {
    let Some(cg) = &state.spec.cgroup else {
        return Ok(());
    };
    let layout = box_cgroup::Layout::detect().context("detect cgroups")?;
    match box_cgroup::Cgroup::open(&layout, &cg.path) {
        Ok(cgroup) => cgroup
            .destroy_keep_parents()
            .with_context(|| format!("remove cgroup {}", cg.path.display())),
        Err(box_cgroup::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("open cgroup {}", cg.path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("sigkill").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
    }
}
