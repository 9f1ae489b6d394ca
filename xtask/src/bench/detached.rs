//! Many containers running at once: N detached containers running `sleep`, started
//! concurrently (`box up -d`, `RUNTIME run -d`: each returns once its container runs), checked
//! running (`box ps`, `RUNTIME list`), then removed concurrently (`box rm -f`, `RUNTIME
//! delete -f`); both phases timed, first spawn to last exit; then a check that nothing is left:
//! no state, no cgroup, no process. Round after round, a different runtime first each round.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};

use super::fleet::{self, Fleet, Who};
use super::prepare::Env;
use super::procs::{self, Memory};
use super::scale::burst;
use super::stats::{self, round3};

pub struct Detached {
    pub runtime: String,
    pub n: usize,
    /// Per round (ms): all started, all removed.
    pub start_ms: Vec<f64>,
    pub stop_ms: Vec<f64>,
    /// Commands that did not exit 0, starts and removals, over all rounds.
    pub failures: usize,
    pub messages: Vec<String>,
    /// Started, but not reported running by `ps`/`list`, over all rounds.
    pub not_running: usize,
    /// The runtime's own processes while all N ran, per round (monitors; none for run -d).
    pub kept: Vec<usize>,
    /// The memory of each of those processes, in the first round.
    pub kept_memory: Vec<Memory>,
    /// What the runtime left after removal, per round (the bench then removes it).
    pub left: Vec<String>,
    pub error: Option<String>,
}

/// `rounds` rounds of `n` containers per runtime.
pub fn run(env: &Env, n: usize, rounds: usize) -> Vec<Detached> {
    let everyone = fleet::everyone(env);
    let mut results: Vec<Detached> = everyone
        .iter()
        .map(|&who| Detached::new(&fleet::label(env, who), n))
        .collect();
    for round in 0..rounds {
        for k in 0..everyone.len() {
            let i = (k + round) % everyone.len();
            if results[i].error.is_some() {
                continue;
            }
            if let Err(e) = one_round(env, everyone[i], round, &mut results[i]) {
                results[i].error = Some(format!("{e:#}"));
            }
        }
    }
    results
}

fn one_round(env: &Env, who: Who, round: usize, r: &mut Detached) -> Result<()> {
    let f = Fleet::new(env, who, &format!("r{round}"), r.n)?;
    let errors = env.work.join("detached").join("stderr");
    let result = (|| -> Result<()> {
        let start = burst(&f.start_batch(), &errors)?;
        let started = start.codes.iter().filter(|&&c| c == 0).count();
        r.record(start.ms, start.failed, true);
        r.not_running += started.saturating_sub(f.running()?);
        let all = procs::descendants();
        let (kept, _) = procs::split(&all);
        r.kept.push(kept.len());
        if round == 0 {
            r.kept_memory = kept.iter().filter_map(|p| Memory::read(p.pid)).collect();
        }
        let stop = burst(&f.stop_batch(), &errors)?;
        r.record(stop.ms, stop.failed, false);
        Ok(())
    })();
    if result.is_ok() {
        let mut left = f.leftovers();
        left.extend(lingering());
        r.left
            .extend(left.into_iter().map(|l| format!("round {round}: {l}")));
    }
    f.cleanup();
    result
}

/// The bench's descendants still alive 5 s after the removal: a monitor may take a moment to
/// exit after `rm` returned; anything there after that is left behind.
fn lingering() -> Vec<String> {
    let t0 = Instant::now();
    loop {
        super::spawn::reap_orphans();
        let left = procs::descendants();
        if left.is_empty() {
            return Vec::new();
        }
        if t0.elapsed() > Duration::from_secs(5) {
            return left
                .iter()
                .map(|p| format!("process {} ({})", p.pid, p.comm))
                .collect();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Detached {
    fn new(runtime: &str, n: usize) -> Detached {
        Detached {
            runtime: runtime.to_string(),
            n,
            start_ms: Vec::new(),
            stop_ms: Vec::new(),
            failures: 0,
            messages: Vec::new(),
            not_running: 0,
            kept: Vec::new(),
            kept_memory: Vec::new(),
            left: Vec::new(),
            error: None,
        }
    }

    fn record(&mut self, ms: f64, failed: Vec<String>, start: bool) {
        if start {
            self.start_ms.push(ms);
        } else {
            self.stop_ms.push(ms);
        }
        self.failures += failed.len();
        for m in failed {
            let m = format!("{}: {m}", if start { "start" } else { "removal" });
            if !self.messages.contains(&m) {
                self.messages.push(m);
            }
        }
    }

    pub fn start(&self) -> Option<stats::Summary> {
        stats::summarize(&self.start_ms)
    }

    pub fn stop(&self) -> Option<stats::Summary> {
        stats::summarize(&self.stop_ms)
    }

    /// The median of each field over the kept processes (first round).
    pub fn kept_median(&self) -> Option<Memory> {
        let m = |f: fn(&Memory) -> u64| {
            stats::median_u64(&self.kept_memory.iter().map(f).collect::<Vec<_>>())
        };
        Some(Memory {
            rss: m(|x| x.rss)?,
            pss: m(|x| x.pss)?,
            private_clean: m(|x| x.private_clean)?,
            private_dirty: m(|x| x.private_dirty)?,
            anonymous: m(|x| x.anonymous)?,
        })
    }

    pub fn to_json(&self) -> Value {
        let ms = |v: &[f64]| v.iter().map(|&x| round3(x)).collect::<Vec<_>>();
        json!({
            "runtime": self.runtime,
            "concurrent": self.n,
            "start_all_ms": ms(&self.start_ms),
            "remove_all_ms": ms(&self.stop_ms),
            "start_summary": self.start().map(stats::Summary::to_json),
            "remove_summary": self.stop().map(stats::Summary::to_json),
            "failures": self.failures,
            "failure_messages": self.messages,
            "started_but_not_running": self.not_running,
            "kept_processes_per_round": self.kept,
            "kept_memory_first_round": self.kept_memory.iter().map(|m| m.to_json()).collect::<Vec<_>>(),
            "left_after_removal": self.left,
            "error": self.error,
        })
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The table of [`run`]'s results.
pub fn print(all: &[Detached], rounds: usize) {
    let Some(first) = all.first() else {
        return;
    };
    let crun = all.iter().find(|d| d.runtime == "crun");
    let ratio = |a: Option<stats::Summary>, b: Option<stats::Summary>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a.median / b.median),
        _ => "-".into(),
    };
    println!(
        "\nscale, detached: {} containers running sleep at once (base variant), {rounds} round(s); \
         ms, median (min)",
        first.n
    );
    println!(
        "  {:<18} {:>18} {:>6} {:>18} {:>6} {:>7} {:>11} {:>8}",
        "runtime", "start all", "×crun", "remove all", "×crun", "failed", "kept procs", "left"
    );
    for d in all {
        if let Some(e) = &d.error {
            println!("  {:<18} failed: {e}", d.runtime);
            continue;
        }
        let cell = |s: Option<stats::Summary>| {
            s.map_or_else(|| "-".into(), |s| format!("{:.1} ({:.1})", s.median, s.min))
        };
        println!(
            "  {:<18} {:>18} {:>6} {:>18} {:>6} {:>7} {:>11} {:>8}",
            d.runtime,
            cell(d.start()),
            ratio(d.start(), crun.and_then(Detached::start)),
            cell(d.stop()),
            ratio(d.stop(), crun.and_then(Detached::stop)),
            d.failures,
            stats::median_u64(&d.kept.iter().map(|&k| k as u64).collect::<Vec<_>>())
                .map_or_else(|| "-".into(), |k| k.to_string()),
            if d.left.is_empty() { "nothing" } else { "SOME" },
        );
        for m in &d.messages {
            println!("  {:<18} a failed command said: {m}", "");
        }
        if d.not_running > 0 {
            println!(
                "  {:<18} {} started but not reported running",
                "", d.not_running
            );
        }
        if !d.left.is_empty() {
            println!("  {:<18} LEFT AFTER REMOVAL: {}", "", d.left.join(", "));
        }
    }
    println!(
        "  start all: first `up -d`/`run -d` spawned to the last one returned, each returning once \
         its container runs (then `box ps`/`RUNTIME list` checked all running); remove all: the \
         same for `box rm -f`/`RUNTIME delete -f`. kept procs: the runtime's processes beside the \
         N workloads. left: state, cgroups or processes of the containers after the removal."
    );
    for d in all {
        if let Some(m) = d.kept_median() {
            println!(
                "  {}: each of the {} kept processes while all ran (median): Rss {:.2}, Pss {:.2}, \
                 Private {:.2} (anonymous {:.2}) MiB",
                d.runtime,
                d.kept_memory.len(),
                mib(m.rss),
                mib(m.pss),
                mib(m.private()),
                mib(m.anonymous)
            );
        }
    }
}
