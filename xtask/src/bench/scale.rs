//! Many short containers at once, in the foreground: N containers running `/bin/true` spawned
//! back to back, then all waited for; the first spawn to the last exit, for box (`box up`) and
//! each OCI runtime (`run`), round after round, interleaved. N containers *running* at once,
//! detached, is detached.rs; both use [`burst`].

use std::ffi::OsString;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use serde_json::{json, Value};

use super::bundle::{self, VARIANTS};
use super::cases::Runner;
use super::spawn;
use super::stats::{self, round3};

pub struct Scale {
    pub runtime: String,
    pub n: usize,
    /// Wall time of each round (ms), first spawn to last exit.
    pub rounds: Vec<f64>,
    /// Containers that did not exit 0, over all rounds.
    pub failures: usize,
    /// What the failed ones said (each message once).
    pub messages: Vec<String>,
    pub error: Option<String>,
}

/// `rounds` rounds of `n` concurrent base-variant containers per runtime.
pub fn run(runner: &mut Runner<'_>, box_toml: &Path, n: usize, rounds: usize) -> Vec<Scale> {
    let env = runner.env;
    let mut results = vec![Scale::new("box (unconfined)", n)];
    results.extend(env.runtimes.iter().map(|rt| Scale::new(rt.name, n)));
    let config = env
        .template
        .as_ref()
        .map(|t| bundle::for_variant(t, &VARIANTS[0]));
    let count = results.len();
    for round in 0..rounds {
        // A different runtime goes first each round.
        for k in 0..count {
            let i = (k + round) % count;
            let result = &mut results[i];
            if result.error.is_some() {
                continue;
            }
            let errors = env.work.join("scale").join(format!("stderr-{i}"));
            let outcome = if i == 0 {
                let argv: Vec<OsString> =
                    vec![env.box_bin.clone().into(), "up".into(), box_toml.into()];
                let batch = vec![(argv, None); n];
                burst(&batch, &errors).inspect(|b| runner.box_pids.extend(&b.pids))
            } else {
                oci_burst(runner, i - 1, config.as_ref(), n, &errors)
            };
            match outcome {
                Ok(b) => {
                    result.rounds.push(b.ms);
                    result.failures += b.failed.len();
                    for message in b.failed {
                        if !result.messages.contains(&message) {
                            result.messages.push(message);
                        }
                    }
                }
                Err(e) => result.error = Some(format!("{e:#}")),
            }
        }
    }
    results
}

/// `rounds` rounds of `n` concurrent box containers of `box_toml`, box alone (the bridged
/// variant, which the OCI runtimes have no counterpart of).
pub fn run_box(
    runner: &mut Runner<'_>,
    box_toml: &Path,
    label: &str,
    n: usize,
    rounds: usize,
) -> Scale {
    let env = runner.env;
    let mut result = Scale::new(label, n);
    let errors = env.work.join("scale").join("stderr-box-only");
    let argv: Vec<OsString> = vec![env.box_bin.clone().into(), "up".into(), box_toml.into()];
    for _ in 0..rounds {
        match burst(&vec![(argv.clone(), None); n], &errors) {
            Ok(b) => {
                runner.box_pids.extend(&b.pids);
                result.rounds.push(b.ms);
                result.failures += b.failed.len();
                for message in b.failed {
                    if !result.messages.contains(&message) {
                        result.messages.push(message);
                    }
                }
            }
            Err(e) => {
                result.error = Some(format!("{e:#}"));
                break;
            }
        }
    }
    result
}

fn oci_burst(
    runner: &mut Runner<'_>,
    rt: usize,
    config: Option<&Value>,
    n: usize,
    errors: &Path,
) -> Result<Burst> {
    let env = runner.env;
    let oci = &env.runtimes[rt];
    let config = config.ok_or_else(|| anyhow::anyhow!("no OCI template"))?;
    let mut batch = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let id = runner.next_id(rt);
        let dir = env.work.join("scale").join(oci.name).join(k.to_string());
        bundle::write(&dir, config, &format!("/{}/{id}", oci.cgroup_parent()))?;
        batch.push((oci.argv(&dir, &id), oci.mntns_fd()));
        ids.push(id);
    }
    let result = burst(&batch, errors);
    for id in &ids {
        oci.cleanup(id, &env.cgroup_mounts);
    }
    result
}

pub struct Burst {
    pub ms: f64,
    /// What each failed command printed last on stderr, with its exit code.
    pub failed: Vec<String>,
    /// Their exit codes, in the order of the batch.
    pub codes: Vec<i32>,
    pub pids: Vec<i32>,
}

/// Spawns every command back to back, then waits for all. Each one's stderr goes to a file
/// in `errors` (opened before the clock starts), read only for the ones that failed.
pub fn burst(batch: &[(Vec<OsString>, Option<i32>)], errors: &Path) -> Result<Burst> {
    std::fs::create_dir_all(errors)?;
    let mut commands = Vec::with_capacity(batch.len());
    for (k, (argv, mntns)) in batch.iter().enumerate() {
        let file = std::fs::File::create(errors.join(k.to_string()))?;
        let mut cmd = spawn::command(argv, *mntns);
        cmd.stderr(file);
        commands.push(cmd);
    }
    let t0 = Instant::now();
    let mut pids = Vec::with_capacity(batch.len());
    let mut spawn_error = None;
    for cmd in &mut commands {
        match spawn::start(cmd) {
            Ok(pid) => pids.push(pid),
            Err(e) => {
                spawn_error = Some(e);
                break;
            }
        }
    }
    let codes = spawn::wait_all(&pids)?;
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    drop(commands);
    let failed = codes
        .iter()
        .enumerate()
        .filter(|(_, &code)| code != 0)
        .map(|(k, code)| {
            let text = std::fs::read_to_string(errors.join(k.to_string())).unwrap_or_default();
            let last = text.lines().last().unwrap_or("").trim().to_string();
            format!("exit {code}: {last}")
        })
        .collect();
    match spawn_error {
        Some(e) => Err(e),
        None => Ok(Burst {
            ms,
            failed,
            codes,
            pids,
        }),
    }
}

impl Scale {
    fn new(runtime: &str, n: usize) -> Scale {
        Scale {
            runtime: runtime.to_string(),
            n,
            rounds: Vec::new(),
            failures: 0,
            messages: Vec::new(),
            error: None,
        }
    }

    pub fn summary(&self) -> Option<stats::Summary> {
        stats::summarize(&self.rounds)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "runtime": self.runtime,
            "concurrent": self.n,
            "rounds_ms": self.rounds.iter().map(|&x| round3(x)).collect::<Vec<_>>(),
            "summary": self.summary().map(stats::Summary::to_json),
            "failures": self.failures,
            "failure_messages": self.messages,
            "error": self.error,
        })
    }
}

/// The table of [`run`]'s results.
pub fn print(scale: &[Scale]) {
    let Some(first) = scale.first() else {
        return;
    };
    println!(
        "\nscale, foreground: {} concurrent `up`/`run` of /bin/true (base variant; box (bridged): each on one bridge network), first spawn to last exit, ms",
        first.n
    );
    println!("  (short-lived containers started at once; N containers running at once is \"scale, detached\")");
    for s in scale {
        match (s.summary(), &s.error) {
            (Some(sum), None) => println!(
                "  {:<20} median {:>8.1}  min {:>8.1}  over {} rounds, {} failed starts",
                s.runtime, sum.median, sum.min, sum.n, s.failures
            ),
            (_, Some(e)) => println!("  {:<20} failed: {e}", s.runtime),
            (None, None) => println!("  {:<20} not run", s.runtime),
        }
        for m in &s.messages {
            println!("  {:<20} a failed start said: {m}", "");
        }
    }
}
