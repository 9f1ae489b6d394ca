//! `cargo xtask chaos`: box under concurrency, `kill -9`, damaged state and a full state disk.
//!
//! Every phase runs the real `box` binary (release build) against a state root of its own and
//! then checks the truth with the kernel, never with box's own word: a container box said it
//! stopped has no process left; after the final `box rm -f` of every name no state directory,
//! cgroup, mount or process of the run is left. Phases:
//!
//! ```text
//! starts   N starts, P at a time (3 of 4 detached, 1 of 4 foreground), then rm -f of all
//! stops    S starts, each raced by rm -f / stop / kill after a random delay
//! kills    K starts, box (foreground) or the monitor (detached) killed with SIGKILL at a
//!          random moment; then rm -f must clean up
//! damage   running containers whose state.json is truncated, garbled or removed must still
//!          be listed, stopped and removed
//! disk     a state root on a full tmpfs: starts fail cleanly and leave nothing
//! ```
//!
//! Random delays come from a seeded generator; the seed is printed so a failing run can be
//! repeated with `--seed`.

mod check;
mod phases;
mod run;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

pub const USAGE: &str =
    "usage: cargo xtask chaos [--starts N] [--parallel P] [--stops S] [--kills K]
                         [--damage D] [--seed N] [--box PATH] [--quick]

  --starts N    concurrent starts in the first phase (default 2000)
  --parallel P  how many box commands run at once (default 50)
  --stops S     starts raced by rm -f / stop / kill (default 200)
  --kills K     starts whose box or monitor is killed with SIGKILL (default 200)
  --damage D    running containers whose state file is damaged (default 30)
  --seed N      the random delays' seed (default: from the clock; printed)
  --box PATH    test this box binary instead of building one in release mode
  --quick       a smoke run: 100 starts, 20 stops, 20 kills, 6 damaged";

/// What to run, from the command line.
pub struct Options {
    pub starts: usize,
    pub parallel: usize,
    pub stops: usize,
    pub kills: usize,
    pub damage: usize,
    pub seed: u64,
    pub box_bin: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[&str]) -> Result<Options> {
        let mut o = Options {
            starts: 2000,
            parallel: 50,
            stops: 200,
            kills: 200,
            damage: 30,
            seed: clock_seed(),
            box_bin: None,
        };
        let mut it = args.iter();
        while let Some(&arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .copied()
                    .with_context(|| format!("{name} needs a value\n{USAGE}"))
            };
            let number = |text: &str| {
                text.parse::<u64>()
                    .with_context(|| format!("{arg}: {text:?} is not a number"))
            };
            match arg {
                "--starts" => o.starts = number(value(arg)?)? as usize,
                "--parallel" => o.parallel = (number(value(arg)?)? as usize).max(1),
                "--stops" => o.stops = number(value(arg)?)? as usize,
                "--kills" => o.kills = number(value(arg)?)? as usize,
                "--damage" => o.damage = number(value(arg)?)? as usize,
                "--seed" => o.seed = number(value(arg)?)?,
                "--box" => o.box_bin = Some(PathBuf::from(value(arg)?)),
                "--quick" => {
                    o.starts = 100;
                    o.stops = 20;
                    o.kills = 20;
                    o.damage = 6;
                }
                other => bail!("unknown option {other:?}\n{USAGE}"),
            }
        }
        Ok(o)
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1
}

/// A small xorshift generator: reproducible delays from `--seed`, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        if n == 0 {
            0
        } else {
            x % n
        }
    }
}

pub fn run(args: &[&str]) -> Result<()> {
    let opts = Options::parse(args)?;
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the chaos run starts containers: run it as root");
    }
    let box_bin = match &opts.box_bin {
        Some(bin) => bin.clone(),
        None => crate::bench::build_box()?,
    };
    eprintln!(
        "chaos: seed {} (repeat with --seed {})",
        opts.seed, opts.seed
    );
    let env = run::Env::new(box_bin)?;
    let report = phases::all(&env, &opts);
    let left = check::leftovers(&env);
    env.cleanup();
    report.print();
    match (report.failures(), left.is_empty()) {
        (0, true) => {
            println!("chaos: 0 failures, nothing left");
            Ok(())
        }
        (n, _) => {
            for l in &left {
                println!("left: {l}");
            }
            bail!("chaos: {n} failures, {} leftovers", left.len())
        }
    }
}
