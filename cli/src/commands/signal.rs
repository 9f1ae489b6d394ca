//! `stop`, `kill` and `wait`: signals to a container's PID 1, and waiting for its monitor to
//! record the end. A container that is still starting is waited for (its monitor reports it
//! running, or fails) before it is signalled; one whose record is damaged is found through
//! the kernel (its cgroup, its monitor).

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use nix::sys::signal::Signal;

use super::parse;
use super::pidfd::{send, wait_gone};
use super::settle::{kill_monitor, past_start, settle, SETTLE, START_WAIT};
use crate::name::Name;
use crate::state::{remove_orphan_cgroup, Root, Status};

/// Runs `each` on every name, checked first; errors are printed and make the exit code 1.
pub(crate) fn for_each(names: &[String], mut each: impl FnMut(&Name) -> Result<()>) -> Result<i32> {
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

/// `seconds`: `box stop -t`; otherwise the container's own `stop_timeout` (default 10).
pub fn stop(root: &Root, names: &[String], seconds: Option<u64>) -> Result<i32> {
    for_each(names, |name| stop_one(root, name, seconds))
}

/// The container's stop signal (SIGTERM unless `stop_signal` says otherwise) to PID 1, SIGKILL
/// after the timeout, then the wait for the monitor to record the end. As Docker's, stopping
/// a stopped container is no error.
fn stop_one(root: &Root, name: &Name, seconds: Option<u64>) -> Result<()> {
    root.entry(name)?;
    let Some(entry) = past_start(root, name, START_WAIT)? else {
        return Ok(()); // its start failed: nothing runs
    };
    let policy = entry.state().map(|s| s.stop).unwrap_or_default();
    let timeout = Duration::from_secs(seconds.unwrap_or(policy.timeout()));
    if entry.starting() {
        // Its start hangs: the container never ran its command, as far as box knows.
        kill_monitor(name, &entry)?;
    } else if let Some(pid) = entry.container_process() {
        // PID 1 ignores SIGTERM unless it handles it: then only the timeout ends it.
        if send(
            &pid,
            entry.state().map_or(Signal::SIGTERM, |s| s.stop_signal()),
        )? && !wait_gone(&pid, timeout)?
        {
            send(&pid, Signal::SIGKILL)?;
            wait_gone(&pid, SETTLE)?;
        }
    } else if entry.live_monitor().is_none() {
        // Nobody watches it (its monitor was killed): what may be left in its cgroup dies.
        remove_orphan_cgroup(&entry.cgroup_path())?;
    }
    let Some(end) = settle(root, name, SETTLE)? else {
        return Ok(()); // a foreground `box up` removed its own record as it ended
    };
    match end.status() {
        Status::Dead => eprintln!(
            "box: container {name} is stopped, but its monitor ended without recording how (exit code unknown; see `box logs {name}`)"
        ),
        Status::Damaged => eprintln!(
            "box: container {name} is stopped; its record is damaged ({})",
            end.damage().unwrap_or_default()
        ),
        _ => {}
    }
    Ok(())
}

pub fn kill(root: &Root, names: &[String], signal: &str) -> Result<i32> {
    let sig = parse_signal(signal)?;
    for_each(names, |name| {
        root.entry(name)?;
        let entry = past_start(root, name, START_WAIT)?
            .ok_or_else(|| anyhow!("container {name} is gone: its start failed"))?;
        match entry.container_process() {
            Some(pid) if send(&pid, sig)? => Ok(()),
            _ => bail!(
                "container {name} is {}, not running",
                entry.status().as_str()
            ),
        }
    })
}

pub fn wait(root: &Root, name: &Name) -> Result<i32> {
    root.entry(name)?;
    let Some(entry) = settle(root, name, Duration::MAX)? else {
        bail!("container {name} was removed before its end was recorded");
    };
    match (entry.status(), entry.state().and_then(|s| s.exit_code)) {
        (Status::Exited, Some(code)) => {
            println!("{code}");
            Ok(0)
        }
        (Status::Damaged, _) => bail!(
            "container {name} has ended, but its record is damaged ({}): its exit code is unknown",
            entry.damage().unwrap_or_default()
        ),
        (Status::Exited, None) => bail!(
            "container {name} has exited, but its exit code is unknown: {}",
            entry
                .state()
                .and_then(|s| s.error.clone())
                .unwrap_or_else(|| "its monitor recorded none".into())
        ),
        (status, _) => bail!(
            "container {name} is {}: its monitor is gone, so its exit code is unknown",
            status.as_str()
        ),
    }
}

fn parse_signal(text: &str) -> Result<Signal> {
    crate::config::parse_signal(text).map_err(anyhow::Error::msg)
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
