//! `cargo xtask bench`: box against runc and crun (and youki, when installed) side by side,
//! interleaved, in one run. See docs/performance.md for the method and a recorded run.

mod breakdown;
mod bundle;
mod cases;
mod check;
mod conmon;
mod detached;
mod fleet;
mod goals;
mod netfleet;
mod network;
mod oci;
mod overlay;
mod prepare;
mod procs;
mod pull;
mod report;
mod resident;
mod scale;
mod spawn;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};

pub(crate) use prepare::{build_box, build_box_with, Build};

pub const USAGE: &str =
    "usage: cargo xtask bench [--runs N] [--warmup N] [--scale N] [--quick] [--box PATH]

  --runs N     measured runs per case, after the warm-up (default 100)
  --warmup N   unmeasured rounds first (default 5)
  --scale N    containers started at once in the scale tests (default 50; 5 rounds each,
               and 5 looks at the memory a detached container keeps)
  --quick      a smoke run: 5 runs, 1 warm-up, 10 at once, 1 round of the scale tests, of
               the detached memory and of the image pull
  --box PATH   measure this box binary instead of building one in release mode
  --images     only the image benches: pull + unpack (box against skopeo + umoci), and
               box up on an image (overlay root) against the same files as a directory";

/// What to run, from the command line.
pub struct Options {
    pub runs: usize,
    pub warmup: usize,
    pub scale: usize,
    pub scale_rounds: usize,
    /// Rounds of the image pull comparison (each pulls the whole image twice).
    pub pull_rounds: usize,
    /// Only the image benches.
    pub images_only: bool,
    pub box_bin: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[&str]) -> Result<Options> {
        let mut o = Options {
            runs: 100,
            warmup: 5,
            scale: 50,
            scale_rounds: 5,
            pull_rounds: 5,
            images_only: false,
            box_bin: None,
        };
        let mut it = args.iter();
        while let Some(&arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .copied()
                    .with_context(|| format!("{name} needs a value\n{USAGE}"))
            };
            match arg {
                "--runs" => o.runs = value(arg)?.parse().context("--runs")?,
                "--warmup" => o.warmup = value(arg)?.parse().context("--warmup")?,
                "--scale" => o.scale = value(arg)?.parse().context("--scale")?,
                "--box" => o.box_bin = Some(PathBuf::from(value(arg)?)),
                "--images" => o.images_only = true,
                "--quick" => {
                    o.runs = 5;
                    o.warmup = 1;
                    o.scale = 10;
                    o.scale_rounds = 1;
                    o.pull_rounds = 1;
                }
                _ => bail!("unknown argument {arg:?}\n{USAGE}"),
            }
        }
        if o.runs == 0 || o.scale == 0 {
            bail!("--runs and --scale must be at least 1");
        }
        Ok(o)
    }
}

pub fn run(args: &[&str]) -> Result<()> {
    let opts = Options::parse(args)?;
    if opts.images_only {
        return images_only(&opts);
    }
    let t0 = Instant::now();
    let load_before = loadavg();
    let env = prepare::prepare(&opts)?;
    let mut cases = cases::build(&env)?;
    let mut runner = cases::Runner::new(&env);
    eprintln!(
        "bench: {} cases, {} rounds (warm-up {})",
        cases.len(),
        opts.warmup + opts.runs,
        opts.warmup
    );
    let anchor = network::Anchor::start(&env)?;
    cases::measure(&mut cases, &mut runner, opts.warmup, opts.runs);

    eprintln!("bench: box up --timings");
    let breakdowns: Vec<_> = [
        ("base", cases::BOX_UNCONFINED),
        ("base", cases::BOX_DEFAULT),
        (network::VARIANT, cases::BOX_UNCONFINED),
    ]
    .iter()
    .filter_map(|(variant, label)| {
        let case = cases
            .iter()
            .find(|c| c.variant == *variant && c.runtime == *label)?;
        let cases::Target::Box { toml } = &case.target else {
            return None;
        };
        let label = format!("{variant}, {label}");
        Some(breakdown::measure(
            &env.box_bin,
            &label,
            toml,
            opts.runs,
            &mut runner.box_pids,
        ))
    })
    .collect();
    // The bridged rows measured a network in use; the scale test makes and removes it.
    drop(anchor);

    eprintln!("bench: {} concurrent starts", opts.scale);
    let base_toml = env.work.join("box").join("base-unconfined.toml");
    let mut scale = scale::run(&mut runner, &base_toml, opts.scale, opts.scale_rounds);
    // Bridged: N containers make, share and remove the bench network, N distinct addresses.
    let (_, bridged_toml) = network::write_tomls(&env)?;
    scale.push(scale::run_box(
        &mut runner,
        &bridged_toml,
        network::SCALE_LABEL,
        opts.scale,
        opts.scale_rounds,
    ));

    eprintln!("bench: {} bridged containers at once", opts.scale);
    let fleet = netfleet::run(&env, opts.scale, &mut runner.box_pids);

    // From here on, what a runtime leaves running becomes the bench's child.
    spawn::become_subreaper()?;
    // Freshly written binaries have dirty page-cache pages, which smaps would count as the
    // private memory of whoever maps them.
    procs::flush(&env.box_bin);
    procs::flush(&env.rootfs.join("bin").join("busybox"));
    eprintln!("bench: memory kept per detached container");
    let resident = resident::run(&env, opts.scale_rounds);
    eprintln!("bench: {} detached containers at once", opts.scale);
    let detached = detached::run(&env, opts.scale, opts.scale_rounds);

    eprintln!("bench: image pull + unpack, box against skopeo + umoci");
    let pulls = pull::run(&env.box_bin, &env.work, opts.pull_rounds);
    eprintln!("bench: box up on an image (overlay root) against a directory");
    let overlay = overlay::run(&env.box_bin, &env.work, opts.runs, opts.warmup);

    let sizes = check::sizes(&env);
    let mut leftovers = check::leftovers(&env, &runner.box_pids);
    leftovers.extend(check::box_root_left());
    leftovers.extend(network::leftovers());
    let results = report::Results {
        env: &env,
        opts: &opts,
        cases: &cases,
        breakdowns: &breakdowns,
        scale: &scale,
        resident: &resident,
        detached: &detached,
        pull: &pulls,
        overlay: &overlay,
        sizes: &sizes,
        leftovers: &leftovers,
        elapsed_s: t0.elapsed().as_secs_f64(),
        load: [load_before, loadavg()],
    };
    results.print();
    let fleet_ok = match &fleet {
        Ok(seen) => {
            let (line, ok) = seen.line(opts.scale);
            println!("\n{line}");
            ok
        }
        Err(e) => {
            println!("\nbridged containers at once: {e:#}");
            false
        }
    };
    let json_path = env.out_dir.join("results.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&results.to_json())?,
    )
    .with_context(|| format!("write {}", json_path.display()))?;
    println!("\nJSON with every sample: {}", json_path.display());
    if let Err(e) = std::fs::remove_dir_all(&env.work) {
        eprintln!("bench: could not remove {}: {e}", env.work.display());
    }
    if !leftovers.is_empty() {
        bail!("the bench left things on the host (listed above)");
    }
    if !fleet_ok {
        bail!("bridged containers at once did not each get an address of their own");
    }
    Ok(())
}

/// `--images`: the image benches alone, printed (not written to the results).
fn images_only(opts: &Options) -> Result<()> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the bench pulls into a root-owned store: run it as root");
    }
    let box_bin = match &opts.box_bin {
        Some(bin) => bin.clone(),
        None => build_box()?,
    };
    let work = tempfile::Builder::new()
        .prefix("box-pull-bench-")
        .tempdir()?;
    eprintln!(
        "bench: image pull + unpack, box against skopeo + umoci, {} rounds",
        opts.pull_rounds
    );
    let pulls = pull::run(&box_bin, work.path(), opts.pull_rounds);
    pulls.print();
    if let Some(r) = pulls.ratio() {
        println!(
            "  goal: <= 0.7x  {}",
            if r <= 0.7 { "met" } else { "MISSED" }
        );
    }
    eprintln!(
        "bench: box up on an image against a directory, {} runs",
        opts.runs
    );
    let overlay = overlay::run(&box_bin, work.path(), opts.runs, opts.warmup);
    overlay.print();
    if let Some(d) = overlay.added_ms() {
        println!(
            "  goal (state on a tmpfs): <= +0.5 ms  {}",
            if d <= 0.5 { "met" } else { "MISSED" }
        );
    }
    match (&pulls.error, &overlay.error) {
        (Some(e), _) => bail!("the pull bench failed: {e}"),
        (_, Some(e)) => bail!("the overlay bench failed: {e}"),
        _ => Ok(()),
    }
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
