//! Starts raced by stops, and starts whose box or monitor is killed with SIGKILL.

use std::sync::Mutex;
use std::time::Duration;

use super::{assert_gone, no_such, parallel, remove_and_check, Phase, GRACE};
use crate::chaos::check;
use crate::chaos::run::{finish, Env};
use crate::chaos::{Options, Rng};

/// Each start is raced, after 0–40 ms, by `rm -f`, `stop -t 1` or `kill`. Whatever box
/// answers must be true: a container it says it removed, stopped or killed is gone.
pub fn stops(env: &Env, opts: &Options, phase: &Phase) {
    let rng = Mutex::new(Rng::new(opts.seed));
    parallel(opts.stops, opts.parallel, &|i| {
        let name = env.name("r", i);
        let delay = rng.lock().map_or(0, |mut r| r.below(40));
        let Some(up) = start_detached(env, phase, &name) else {
            return;
        };
        std::thread::sleep(Duration::from_millis(delay));
        let (action, args): (&str, Vec<&str>) = match i % 3 {
            0 => ("rm -f", vec!["rm", "-f", &name]),
            1 => ("stop", vec!["stop", "-t", "1", &name]),
            _ => ("kill", vec!["kill", &name]),
        };
        let raced = env.run(&args);
        let up = finish(up);
        if up.hung {
            phase.fail(up.describe(&format!("up -d {name}")));
        }
        if raced.ok() {
            // It said so: the container is gone (rm -f, stop) or dying (kill).
            let left = check::survivors(env, &name, GRACE);
            if !left.is_empty() {
                phase.fail(format!(
                    "{action} {name} said ok, but processes {left:?} still run"
                ));
            }
            if action == "rm -f" && env.state.join(&name).exists() {
                phase.fail(format!("rm -f {name} said ok, but its state is left"));
            }
        } else if !no_such(&raced.stderr) && !not_running(&raced.stderr) {
            phase.fail(raced.describe(&format!("{action} {name} during its start")));
        }
        remove_and_check(env, phase, &name);
    });
}

/// `box up -d FILE` started, not waited for.
fn start_detached(env: &Env, phase: &Phase, name: &str) -> Option<std::process::Child> {
    let file = env
        .file(name, &["/bin/sleep", "1000"])
        .map_err(|e| phase.fail(format!("{name}: {e:#}")))
        .ok()?;
    let file = file.display().to_string();
    env.spawn(&env.state, &["up", "-d", &file])
        .map_err(|e| phase.fail(format!("{name}: {e:#}")))
        .ok()
}

/// `stop` and `kill` of a container that already exited (or never ran) may say so.
fn not_running(stderr: &str) -> bool {
    stderr.contains("not running") || stderr.contains("exited")
}

/// Each start loses a process to SIGKILL after 0–60 ms: the foreground `box up`, the `box up
/// -d` that is still starting, or the monitor of a running detached container. Afterwards
/// `box rm -f` must remove everything, and no container may outlive its supervisor.
pub fn kills(env: &Env, opts: &Options, phase: &Phase) {
    let rng = Mutex::new(Rng::new(opts.seed ^ 0x9e37_79b9));
    parallel(opts.kills, opts.parallel, &|i| {
        let name = env.name("k", i);
        let delay = rng.lock().map_or(0, |mut r| r.below(60));
        let file = match env.file(&name, &["/bin/sleep", "1000"]) {
            Ok(f) => f.display().to_string(),
            Err(e) => return phase.fail(format!("{name}: {e:#}")),
        };
        match i % 3 {
            0 | 1 => {
                let args: &[&str] = if i % 3 == 0 {
                    &["up", &file]
                } else {
                    &["up", "-d", &file]
                };
                let Ok(mut child) = env.spawn(&env.state, args) else {
                    return phase.fail(format!("{name}: could not run box"));
                };
                std::thread::sleep(Duration::from_millis(delay));
                let _ = child.kill();
                let _ = child.wait();
                if i % 3 == 0 {
                    // The foreground box was the container's supervisor: it must be gone.
                    let left = check::survivors(env, &name, GRACE);
                    if !left.is_empty() {
                        phase.fail(format!("{name}: box up was killed, {left:?} still run"));
                    }
                }
            }
            _ => {
                let up = env.run(&["up", "-d", &file]);
                if !up.ok() {
                    phase.fail(up.describe(&format!("up -d {name}")));
                    return remove_and_check(env, phase, &name);
                }
                std::thread::sleep(Duration::from_millis(delay));
                let monitor = env.run(&["inspect", "--format", "{{.State.MonitorPid}}", &name]);
                match monitor.stdout.trim().parse::<i32>() {
                    // SAFETY: kill with a plain pid and signal touches no memory.
                    Ok(pid) if pid > 1 => unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    },
                    _ => phase.fail(monitor.describe(&format!("monitor of {name}"))),
                }
                let left = check::survivors(env, &name, GRACE);
                if !left.is_empty() {
                    phase.fail(format!("{name}: monitor killed, {left:?} still run"));
                }
            }
        }
        remove_and_check(env, phase, &name);
        assert_gone(env, phase, &name);
    });
}
