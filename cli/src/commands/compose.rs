//! Several containers from one box.toml. `box up -d` starts them detached, each after the
//! containers whose namespaces it joins; `box up` does the same, then follows their logs until
//! all have exited and removes them; `box down` stops and removes them in reverse order.
//!
//! Every container is an ordinary detached container (its own monitor, its own state), so
//! `ps`, `logs`, `ns`, `exec`... work on each of them by name.

mod follow;

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::config::{self, Planned};
use crate::name::Name;
use crate::state::{ProcessId, Root};

use super::pidfd::{send, wait_gone};
use super::settle::{settle, SETTLE};
use super::{container_pid, detach, remove};

use box_launcher::exit_code::CANNOT_START;

/// How long `box up` (foreground) waits after forwarding SIGTERM before it sends SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What `box up` was asked besides the file.
pub struct UpFlags {
    pub detach: bool,
    pub tty: bool,
    pub timings: bool,
}

/// `box up [-d] FILE` for a file of several containers (`plan` in start order).
pub fn up(root: &Root, file: &Path, plan: Vec<Planned>, flags: UpFlags) -> i32 {
    if flags.tty || flags.timings {
        eprintln!(
            "box: {}: -t and --timings take a file of one container; this one defines {}",
            file.display(),
            plan.len()
        );
        return CANNOT_START;
    }
    let first = plan
        .iter()
        .min_by_key(|p| p.index)
        .map(|p| p.spec.name.clone())
        .unwrap_or_default();
    if flags.detach {
        return match start_all(root, file, plan) {
            Ok(names) => {
                print!(
                    "{}",
                    names.iter().map(|n| format!("{n}\n")).collect::<String>()
                );
                0
            }
            Err(code) => code,
        };
    }
    // Before anything starts: a Ctrl-C from now on stops the containers instead of killing
    // box and leaving them behind.
    if let Err(e) = follow::catch_signals() {
        eprintln!("box: {e:#}");
        return CANNOT_START;
    }
    let names = match start_all(root, file, plan) {
        Ok(names) => names,
        Err(code) => return code,
    };
    follow::follow(root, &names, STOP_TIMEOUT);
    let mut code = CANNOT_START;
    for name in &names {
        let entry = match settle(root, name, SETTLE) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                eprintln!("box: {name} was removed meanwhile");
                continue;
            }
            Err(e) => {
                eprintln!("box: {e:#}");
                continue;
            }
        };
        let Some(state) = entry.state() else {
            eprintln!("box: {name}: {}", entry.damage().unwrap_or_default());
            continue;
        };
        if state.oom_killed {
            eprintln!("box: {}", super::oom_message(name));
        }
        match (state.exit_code, &state.error) {
            (Some(c), _) => {
                eprintln!("box: {name} exited with code {c}");
                if name.as_str() == first {
                    code = c;
                }
            }
            (None, Some(error)) => eprintln!("box: {name}: {error}"),
            (None, None) => eprintln!("box: {name} is {}", entry.status().as_str()),
        }
    }
    remove_all(root, names.iter().rev(), false);
    code
}

/// Starts every container of the plan in its order; their names. When one fails, the ones
/// started before it are removed again and the failing one's exit code comes back.
fn start_all(root: &Root, file: &Path, plan: Vec<Planned>) -> Result<Vec<Name>, i32> {
    let mut started: Vec<Name> = Vec::new();
    for planned in plan {
        let name = match Name::parse(&planned.spec.name) {
            Ok(name) => name,
            Err(e) => {
                eprintln!("box: {e}");
                remove_all(root, started.iter().rev(), true);
                return Err(CANNOT_START);
            }
        };
        let stop = planned.stop;
        let image = planned.image.clone();
        let result = planned
            .resolve(&|other| container_pid(root, other))
            .map_err(|m| (CANNOT_START, m))
            .and_then(|spec| detach::start(root, file, spec, stop, false, image));
        if let Err((code, message)) = result {
            eprintln!("box: container {name}: {message}");
            remove_all(root, started.iter().rev(), true);
            return Err(code);
        }
        started.push(name);
    }
    Ok(started)
}

/// `rm -f` of each name; `print` says so on stderr, and a failure is printed.
fn remove_all<'a>(root: &Root, names: impl Iterator<Item = &'a Name>, print: bool) {
    for name in names {
        match remove::remove(root, name, true) {
            Ok(()) if print => eprintln!("box: removed {name}"),
            Ok(()) => {}
            Err(e) => eprintln!("box: remove {name}: {e:#}"),
        }
    }
}

/// `box down [-t SECONDS] FILE`: stops and removes every container the file defines, in
/// reverse start order; names with no container are skipped.
pub fn down(root: &Root, file: &Path, seconds: u64) -> i32 {
    let loaded = match config::load(file) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("box: {e}");
            return CANNOT_START;
        }
    };
    let defs = loaded.containers();
    // A file with a cycle never started; any order takes it down.
    let order = config::start_order(&loaded).unwrap_or_else(|_| (0..defs.len()).collect());
    let mut names = Vec::new();
    for i in order.into_iter().rev() {
        match defs[i].name.as_deref().map(Name::parse) {
            Some(Ok(name)) => names.push(name),
            Some(Err(e)) => {
                eprintln!("box: {}: {e}", file.display());
                return CANNOT_START;
            }
            None => {
                eprintln!(
                    "box: {}: the container has no `name`, so box down cannot tell which one it is (see `box ps`, then `box rm -f NAME`)",
                    file.display()
                );
                return CANNOT_START;
            }
        }
    }
    let present = match root.names() {
        Ok(present) => present,
        Err(e) => {
            eprintln!("box: {e:#}");
            return 1;
        }
    };
    names.retain(|n| present.contains(n));
    stop_all(root, &names, Duration::from_secs(seconds));
    let mut code = 0;
    for name in &names {
        match remove::remove(root, name, true) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("box: {e:#}");
                code = 1;
            }
        }
    }
    code
}

/// SIGTERM (or its image's StopSignal) to every running container of `names` at once (in that
/// order), then SIGKILL to
/// those still running after `timeout`: each gets the whole timeout, and no one waits for
/// another's.
fn stop_all(root: &Root, names: &[Name], timeout: Duration) {
    let running = running_pids(root, names);
    for (pid, signal) in &running {
        if let Err(e) = send(pid, *signal) {
            eprintln!("box: {e:#}");
        }
    }
    let deadline = Instant::now() + timeout;
    for (pid, _) in &running {
        let left = deadline.saturating_duration_since(Instant::now());
        if !wait_gone(pid, left).unwrap_or(false) {
            let _ = send(pid, Signal::SIGKILL);
            let _ = wait_gone(pid, SETTLE);
        }
    }
}

/// The PID 1 of each running container of `names`.
/// Each running container's PID 1, and the signal that stops it first.
fn running_pids(root: &Root, names: &[Name]) -> Vec<(ProcessId, Signal)> {
    names
        .iter()
        .filter_map(|n| {
            let entry = root.entry(n).ok()?;
            let signal = entry.state().map_or(Signal::SIGTERM, |s| s.stop_signal());
            Some((entry.container_process()?, signal))
        })
        .collect()
}
