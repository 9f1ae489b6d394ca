//! The phases of the chaos run, and what each found.

mod damage;
mod races;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::check;
use super::run::Env;
use super::Options;

/// How long a killed container may take to leave the process table.
pub const GRACE: Duration = Duration::from_secs(3);

/// One phase's tally.
pub struct Phase {
    pub name: &'static str,
    pub attempts: usize,
    pub failures: Mutex<Vec<String>>,
}

impl Phase {
    fn new(name: &'static str, attempts: usize) -> Phase {
        Phase {
            name,
            attempts,
            failures: Mutex::new(Vec::new()),
        }
    }

    pub fn fail(&self, what: String) {
        if let Ok(mut f) = self.failures.lock() {
            f.push(what);
        }
    }

    fn count(&self) -> usize {
        self.failures.lock().map_or(0, |f| f.len())
    }
}

pub struct Report(Vec<Phase>);

impl Report {
    pub fn failures(&self) -> usize {
        self.0.iter().map(Phase::count).sum()
    }

    pub fn print(&self) {
        for phase in &self.0 {
            println!(
                "chaos: {:<7} {:>5} attempts, {} failures",
                phase.name,
                phase.attempts,
                phase.count()
            );
            if let Ok(failures) = phase.failures.lock() {
                for f in failures.iter().take(20) {
                    println!("  {f}");
                }
                if failures.len() > 20 {
                    println!("  (+{} more)", failures.len() - 20);
                }
            }
        }
    }
}

pub fn all(env: &Env, opts: &Options) -> Report {
    let mut phases = Vec::new();
    for (name, n, run) in [
        ("starts", opts.starts, starts as PhaseFn),
        ("stops", opts.stops, races::stops),
        ("kills", opts.kills, races::kills),
        ("damage", opts.damage, damage::damage),
        ("disk", 10, damage::full_disk),
    ] {
        eprintln!("chaos: {name} ({n})");
        let phase = Phase::new(name, n);
        run(env, opts, &phase);
        phases.push(phase);
    }
    Report(phases)
}

type PhaseFn = fn(&Env, &Options, &Phase);

/// Runs `job(i)` for i in 0..n, `parallel` at a time.
pub fn parallel(n: usize, parallel: usize, job: &(dyn Fn(usize) + Sync)) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..parallel.min(n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                job(i);
            });
        }
    });
}

/// `box rm -f NAME` at the end of a case: it must work (or find nothing, when the start never
/// claimed the name), and then nothing of the container may be left.
pub fn remove_and_check(env: &Env, phase: &Phase, name: &str) {
    let rm = env.run(&["rm", "-f", name]);
    if !rm.ok() && !no_such(&rm.stderr) {
        phase.fail(rm.describe(&format!("rm -f {name}")));
    }
    assert_gone(env, phase, name);
}

/// Nothing of `name` left: no process, no state, no cgroup.
pub fn assert_gone(env: &Env, phase: &Phase, name: &str) {
    let procs = check::survivors(env, name, GRACE);
    if !procs.is_empty() {
        phase.fail(format!("{name}: processes {procs:?} still run"));
    }
    if env.state.join(name).exists() {
        phase.fail(format!("{name}: state directory left"));
    }
    let cgroups = check::cgroups(name);
    if !cgroups.is_empty() {
        phase.fail(format!("{name}: cgroups left: {cgroups:?}"));
    }
}

pub fn no_such(stderr: &str) -> bool {
    stderr.contains("no such container")
}

/// N starts, 1 in 4 in the foreground (`/bin/true`), the rest detached (`sleep`), then `rm -f`
/// of every detached one.
fn starts(env: &Env, opts: &Options, phase: &Phase) {
    let detached = Mutex::new(Vec::new());
    parallel(opts.starts, opts.parallel, &|i| {
        let name = env.name("s", i);
        let foreground = i % 4 == 3;
        let command: &[&str] = if foreground {
            &["/bin/true"]
        } else {
            &["/bin/sleep", "1000"]
        };
        let file = match env.file(&name, command) {
            Ok(f) => f,
            Err(e) => return phase.fail(format!("{name}: {e:#}")),
        };
        let file = file.display().to_string();
        let args: &[&str] = if foreground {
            &["up", &file]
        } else {
            &["up", "-d", &file]
        };
        let up = env.run(args);
        if !up.ok() {
            phase.fail(up.describe(&format!("up {name}")));
        } else if !foreground && up.stdout.trim() != name {
            phase.fail(format!("up -d {name} printed {:?}", up.stdout));
        }
        if !foreground {
            if let Ok(mut d) = detached.lock() {
                d.push(name);
            }
        }
    });
    let names = detached.into_inner().unwrap_or_default();
    parallel(names.len(), opts.parallel, &|i| {
        remove_and_check(env, phase, &names[i]);
    });
    for i in (0..opts.starts).filter(|i| i % 4 == 3) {
        assert_gone(env, phase, &env.name("s", i));
    }
}
