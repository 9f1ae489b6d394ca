//! What stays resident per detached container beyond its workload: one container running
//! `sleep`, started in the background by each runtime; then every process left below the
//! bench (its subreaper), split into the runtime's own (a monitor, in the bench's pid namespace)
//! and the workload (in the container's), with their memory from `/proc/PID/smaps_rollup`.

use std::time::Duration;

use anyhow::{bail, Result};
use serde_json::{json, Value};

use super::conmon;
use super::fleet::{self, Fleet, Who};
use super::prepare::Env;
use super::procs::{self, Memory};

/// One look at a running container.
#[derive(Debug, Clone)]
pub struct Look {
    /// The runtime's processes still there: `comm` of each.
    pub kept: Vec<String>,
    pub kept_memory: Memory,
    pub workload: Memory,
}

pub struct Resident {
    pub label: String,
    /// How this anchor keeps a detached container.
    pub how: &'static str,
    pub looks: Vec<Look>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl Resident {
    /// The look with the median private memory kept.
    pub fn median(&self) -> Option<&Look> {
        let mut v: Vec<&Look> = self.looks.iter().collect();
        v.sort_by_key(|l| l.kept_memory.private());
        v.get(v.len().checked_sub(1)? / 2).copied()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "runtime": self.label,
            "how": self.how,
            "looks": self.looks.iter().map(|l| json!({
                "kept_processes": l.kept,
                "kept_memory": l.kept_memory.to_json(),
                "workload_memory": l.workload.to_json(),
            })).collect::<Vec<_>>(),
            "notes": self.notes,
            "error": self.error,
        })
    }
}

/// The processes below the bench now, once the runtime has settled.
pub fn look() -> Look {
    // What a runtime still does after its start command returned (a monitor finishing its
    // set-up) should not count: let it settle.
    std::thread::sleep(Duration::from_millis(100));
    let all = procs::descendants();
    let (kept, workload) = procs::split(&all);
    Look {
        kept: kept.iter().map(|p| p.comm.clone()).collect(),
        kept_memory: procs::memory_of(&kept),
        workload: procs::memory_of(&workload),
    }
}

/// `rounds` looks at one detached container of each runtime, and of conmon + runc.
pub fn run(env: &Env, rounds: usize) -> Vec<Resident> {
    let mut out: Vec<Resident> = fleet::everyone(env)
        .into_iter()
        .map(|who| {
            let mut r = Resident::new(&fleet::label(env, who), how(who));
            for round in 0..rounds {
                match one(env, who, round, &mut r.notes) {
                    Ok(l) => r.looks.push(l),
                    Err(e) => {
                        r.error = Some(format!("{e:#}"));
                        break;
                    }
                }
            }
            r
        })
        .collect();
    if let Some(c) = conmon::resident(env, rounds) {
        out.push(c);
    }
    out
}

fn how(who: Who) -> &'static str {
    match who {
        Who::Box => "box up -d: a monitor (box forked) is the container's parent",
        Who::Oci(_) => "run -d: the runtime exits; the container's PID 1 is left alone",
    }
}

fn one(env: &Env, who: Who, round: usize, notes: &mut Vec<String>) -> Result<Look> {
    let f = Fleet::new(env, who, &format!("mem{round}"), 1)?;
    let errors = env.work.join("detached").join("stderr-of-one");
    let result = (|| {
        fleet::run_checked(&f.start_batch()[0], &errors)?;
        if f.running()? != 1 {
            bail!("started, but not reported running");
        }
        let l = look();
        if who == Who::Box {
            if let Some(note) = check_monitor(env, &f.ids[0], &l) {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        fleet::run_checked(&f.stop_batch()[0], &errors)?;
        let left = f.leftovers();
        if !left.is_empty() {
            notes.push(format!("left after removal: {}", left.join(", ")));
        }
        Ok(l)
    })();
    f.cleanup();
    result
}

/// The process found must be the one box records as the monitor.
fn check_monitor(env: &Env, name: &str, l: &Look) -> Option<String> {
    let out = std::process::Command::new(&env.box_bin)
        .arg("--root")
        .arg(fleet::box_root())
        .args(["inspect", "--format", "{{.State.MonitorPid}}", name])
        .output()
        .ok()?;
    let recorded: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let kept: Vec<i32> = procs::descendants()
        .iter()
        .filter(|p| p.host_pidns)
        .map(|p| p.pid)
        .collect();
    (kept != [recorded]).then(|| {
        format!(
            "box inspect says the monitor is pid {recorded}; box's processes left are {kept:?} ({:?})",
            l.kept
        )
    })
}

impl Resident {
    pub fn new(label: &str, how: &'static str) -> Resident {
        Resident {
            label: label.to_string(),
            how,
            looks: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The table of [`run`]'s results.
pub fn print(all: &[Resident], rounds: usize) {
    println!(
        "\nmemory kept per detached container beyond its workload: one container running sleep, \
         alone (median of {rounds}; MiB from /proc/PID/smaps_rollup)"
    );
    println!(
        "  {:<20} {:<16} {:>6} {:>6} {:>8} {:>6} {:>10}",
        "runtime", "kept processes", "Rss", "Pss", "Private", "anon", "workload"
    );
    for r in all {
        match (r.median(), &r.error) {
            (Some(l), None) => {
                let kept = match l.kept.len() {
                    0 => "none".to_string(),
                    n => format!("{n} ({})", l.kept.join(", ")),
                };
                let m = l.kept_memory;
                println!(
                    "  {:<20} {:<16} {:>6.2} {:>6.2} {:>8.2} {:>6.2} {:>6.2} Rss",
                    r.label,
                    kept,
                    mib(m.rss),
                    mib(m.pss),
                    mib(m.private()),
                    mib(m.anonymous),
                    mib(l.workload.rss)
                );
            }
            (_, Some(e)) => println!("  {:<20} failed: {e}", r.label),
            (None, None) => println!("  {:<20} not run", r.label),
        }
        for note in &r.notes {
            println!("  {:<20} note: {note}", "");
        }
    }
    for r in all {
        println!("  {}: {}", r.label, r.how);
    }
    println!(
        "  Private = Private_Clean + Private_Dirty: pages only this process maps, file pages of \
         its binary included while no other process maps them; anon = its anonymous pages alone."
    );
}
