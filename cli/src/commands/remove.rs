//! `rm [-f]`: the end of a container's entry. A live monitor is ended first (`-f`: its
//! container is killed, or, while it is still starting, the monitor itself); then, under the
//! lock and only if no monitor watches it any more, the cgroup and network address it may
//! have left and its directory go. Entries that are half-written or damaged are removed the same way.

use anyhow::{bail, Result};
use nix::sys::signal::Signal;

use super::pidfd::send;
use super::settle::{kill_monitor, settle, SETTLE};
use super::signal::for_each;
use crate::name::Name;
use crate::state::{remove_orphan_cgroup, Create, Entry, Root, Status};

pub fn rm(root: &Root, names: &[String], force: bool) -> Result<i32> {
    for_each(names, |name| remove(root, name, force))
}

/// `rm` of one container, printing nothing. Also fine when the entry goes away meanwhile (a
/// foreground `box up` removes its own as it ends).
pub(crate) fn remove(root: &Root, name: &Name, force: bool) -> Result<()> {
    let mut entry = root.entry(name)?;
    // A new claim may take a name between the moment its old monitor ends and our lock:
    // then that one is looked at afresh.
    for _ in 0..3 {
        if entry.live_monitor().is_some() && !end_monitor(root, name, &entry, force)? {
            return Ok(());
        }
        if reap(root, name)? {
            return Ok(());
        }
        entry = match root.entry(name) {
            Ok(entry) => entry,
            Err(_) if !root.dir(name).exists() => return Ok(()),
            Err(e) => return Err(e),
        };
    }
    bail!("container {name} was claimed again while it was being removed")
}

/// Ends the entry's monitor: a running container is killed and its monitor records the end
/// (a foreground `box up` removes its own entry then: `false`); one still starting (or whose
/// container box cannot find) loses its monitor to SIGKILL; a monitor recording an end is
/// waited for.
fn end_monitor(root: &Root, name: &Name, entry: &Entry, force: bool) -> Result<bool> {
    let busy = matches!(
        entry.status(),
        Status::Created | Status::Running | Status::Damaged
    );
    if busy && !force {
        bail!(
            "container {name} is {}: stop it first, or use `box rm -f`",
            entry.status().as_str()
        );
    }
    if let Some(pid) = entry.container_process() {
        send(&pid, Signal::SIGKILL)?;
    } else if busy {
        kill_monitor(name, entry)?;
    }
    match settle(root, name, SETTLE) {
        Ok(Some(_)) => Ok(true),
        Ok(None) => Ok(false),
        // The monitor hangs: killing it is always safe (the container dies with it).
        Err(_) => kill_monitor(name, entry).map(|()| true),
    }
}

/// Removes the entry under the lock if no monitor watches it: first its cgroup, if the
/// monitor left it, then its directory. `false`: a live monitor holds it (a new claim).
fn reap(root: &Root, name: &Name) -> Result<bool> {
    let locked = match root.lock(name, Create::Lock) {
        Ok(locked) => locked,
        Err(_) if !root.dir(name).exists() => return Ok(true),
        Err(e) => return Err(e),
    };
    let entry = locked.entry();
    if entry.live_monitor().is_some() {
        return Ok(false);
    }
    // Kept on failure, so that `rm` can be tried again.
    remove_orphan_cgroup(&entry.cgroup_path())?;
    if let Some(state) = entry.state() {
        super::network_info::reclaim(state)?;
    }
    locked.remove()?;
    Ok(true)
}
