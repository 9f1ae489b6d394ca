//! Waiting on a container's monitor: for a start to be over (the container runs, or the start
//! failed), and for the end to be recorded. Every wait is on the monitor's pidfd, so a monitor
//! that dies wakes the waiter at once.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use nix::sys::signal::Signal;

use super::pidfd::{send, wait_gone};
use crate::name::Name;
use crate::state::{Entry, Root};

/// How long `rm -f` and `stop` wait for the monitor to record the end after SIGKILL.
pub(crate) const SETTLE: Duration = Duration::from_secs(10);
/// How long `stop` and `kill` wait for a starting container to run before they give up on its
/// start and kill its monitor (stop) or fail (kill).
pub(crate) const START_WAIT: Duration = Duration::from_secs(10);

/// The entry once its start is over (running, failed, or its monitor died), or still starting
/// after `timeout`. `None`: the entry went away meanwhile (a failed start removes its own).
pub(crate) fn past_start(root: &Root, name: &Name, timeout: Duration) -> Result<Option<Entry>> {
    let start = Instant::now();
    loop {
        let Some(entry) = entry_or_gone(root, name)? else {
            return Ok(None);
        };
        if !entry.starting() || start.elapsed() >= timeout {
            return Ok(Some(entry));
        }
        match entry.live_monitor() {
            Some(monitor) => {
                wait_gone(&monitor, Duration::from_millis(5))?;
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Waits until no monitor watches the container any more, so its end is recorded (or never
/// will be); the entry then. `None`: the entry went away (a foreground `box up` removes its
/// own as it ends).
pub(crate) fn settle(root: &Root, name: &Name, timeout: Duration) -> Result<Option<Entry>> {
    let start = Instant::now();
    loop {
        let Some(entry) = entry_or_gone(root, name)? else {
            return Ok(None);
        };
        let Some(monitor) = entry.live_monitor() else {
            // Read again: the monitor may have recorded the end and died between the read
            // above and this check. Gone, it writes nothing more, so this read is final.
            return entry_or_gone(root, name);
        };
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            bail!(
                "container {name}: its monitor (pid {}) did not record the end within {timeout:?}",
                monitor.pid
            );
        }
        wait_gone(&monitor, left.min(Duration::from_millis(200)))?;
    }
}

/// SIGKILL to the container's monitor, and the wait until it is gone: the container dies with
/// it (its parent-death signal), and nothing of it is recorded any more.
pub(crate) fn kill_monitor(name: &Name, entry: &Entry) -> Result<()> {
    let Some(monitor) = entry.live_monitor() else {
        return Ok(());
    };
    send(&monitor, Signal::SIGKILL)?;
    if !wait_gone(&monitor, SETTLE)? {
        return Err(anyhow!(
            "container {name}: its monitor (pid {}) survived SIGKILL for {SETTLE:?}",
            monitor.pid
        ));
    }
    Ok(())
}

/// The entry, or `None` once its directory is gone.
fn entry_or_gone(root: &Root, name: &Name) -> Result<Option<Entry>> {
    match root.entry(name) {
        Ok(entry) => Ok(Some(entry)),
        Err(_) if !root.dir(name).exists() => Ok(None),
        Err(e) => Err(e),
    }
}
