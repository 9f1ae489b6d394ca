//! `box up` in the foreground: box itself is the container's monitor. The container is in the
//! state like a detached one while it runs (`box ps`, `box exec`, `box stop` find it), and is
//! removed when it ends, as `docker run --rm` does.

use std::path::Path;

use box_cli::config::Resolved;
use box_launcher::exit_code::CANNOT_START;
use box_launcher::{Outcome, Spec};

use crate::config::Stop;

use crate::name::Name;
use crate::state::{now_rfc3339, Owned, ProcessId, Recorded, Root, State};

/// Runs `spec` until it exits; returns the exit code for box.
pub fn up(root: &Root, file: &Path, spec: Spec, stop: Stop, image: Option<Resolved>) -> i32 {
    let name = match Name::parse(&spec.name) {
        Ok(name) => name,
        Err(e) => {
            eprintln!("box: {e}");
            return CANNOT_START;
        }
    };
    if let Err(e) = super::install_init(&spec) {
        eprintln!("box: {e:#}");
        return CANNOT_START;
    }
    let Some(me) = ProcessId::of(std::process::id() as i32) else {
        eprintln!("box: read /proc/self/stat");
        return CANNOT_START;
    };
    let used = image.as_ref().map(|i| i.used.clone());
    let state = State::created(&name, file, spec, stop, used, me);
    let owned = match root.claim(&state) {
        Ok(owned) => owned,
        Err(e) => {
            eprintln!("box: {e:#}");
            return CANNOT_START;
        }
    };
    // The record names the image now: `box rmi` may look (and will refuse).
    drop(image);
    let outcome = run(&owned, state);
    if let Err(e) = owned.release() {
        eprintln!("box: {e:#}");
    }
    match outcome {
        Ok(outcome) => report(&name, &outcome),
        Err(code) => code,
    }
}

/// Starts, records and supervises; an `Err` holds the exit code of a failure already printed.
fn run(owned: &Owned, mut state: State) -> Result<Outcome, i32> {
    let running = box_launcher::start(&state.spec).map_err(|e| {
        eprintln!("box: {e}");
        e.exit_code()
    })?;
    state.recorded = Recorded::Running;
    state.pid = ProcessId::of(running.pid.as_raw());
    state.started_at = Some(now_rfc3339());
    if let Err(e) = owned.record(&state) {
        // Not findable: do not leave it running.
        let _ = nix::sys::signal::kill(running.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = running.supervise();
        eprintln!("box: {e:#}");
        return Err(CANNOT_START);
    }
    running.supervise().map_err(|e| {
        eprintln!("box: {e}");
        e.exit_code()
    })
}

/// Timings (when asked), whether the OOM killer struck, and the command's exit code: PID 1's
/// own, as Docker keeps it (137 when the OOM kill was PID 1's: SIGKILL is signal 9).
fn report(name: &Name, outcome: &Outcome) -> i32 {
    for t in &outcome.timings {
        eprintln!(
            "box: timing {:<20} {:>8.3} ms",
            t.step,
            t.elapsed.as_secs_f64() * 1e3
        );
    }
    if outcome.oom_killed {
        eprintln!("box: {}", super::oom_message(name));
    }
    if let Some(why) = &outcome.teardown_error {
        eprintln!("box: container {name} ended, but removing it failed: {why}");
    }
    outcome.exit_code()
}
