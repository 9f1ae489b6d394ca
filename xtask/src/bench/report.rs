//! The results: tables on stdout, and the same (with every sample) as JSON.

use serde_json::{json, Value};

use super::breakdown::Breakdown;
use super::cases::{Case, BOX_DEFAULT, BOX_UNCONFINED, FLOOR, UNSHARE};
use super::check::Size;
use super::detached::Detached;
use super::overlay::OverlayBench;
use super::prepare::Env;
use super::pull::PullBench;
use super::resident::Resident;
use super::scale::Scale;
use super::stats::{self, round3, Summary};
use super::Options;

pub struct Results<'a> {
    pub env: &'a Env,
    pub opts: &'a Options,
    pub cases: &'a [Case],
    pub breakdowns: &'a [Breakdown],
    pub scale: &'a [Scale],
    pub resident: &'a [Resident],
    pub detached: &'a [Detached],
    pub pull: &'a PullBench,
    pub overlay: &'a OverlayBench,
    pub sizes: &'a [Size],
    pub leftovers: &'a [String],
    pub elapsed_s: f64,
    /// /proc/loadavg before and after: other load on the machine makes every figure noisier.
    pub load: [String; 2],
}

pub(super) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub(super) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn show(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}"))
}

impl Results<'_> {
    pub(super) fn median(&self, variant: &str, runtime: &str) -> Option<f64> {
        let case = self
            .cases
            .iter()
            .find(|c| c.variant == variant && c.runtime == runtime)?;
        stats::summarize(&case.samples).map(|s| s.median)
    }

    pub(super) fn rss(&self, variant: &str, runtime: &str) -> Option<u64> {
        let case = self
            .cases
            .iter()
            .find(|c| c.variant == variant && c.runtime == runtime)?;
        stats::median_u64(&case.rss_kib)
    }

    pub(super) fn floor(&self) -> Option<f64> {
        self.median(FLOOR, UNSHARE)
    }

    /// Everything, as text for a terminal (and for docs/performance.md).
    pub fn print(&self) {
        let env = self.env;
        let versions: Vec<String> = env.runtimes.iter().map(|r| r.version.clone()).collect();
        println!(
            "box bench: {} runs per case after {} warm-up, interleaved; box {}; {}; {} CPUs; {:.0} s",
            self.opts.runs,
            self.opts.warmup,
            env.box_version,
            versions.join(", "),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            self.elapsed_s
        );
        println!(
            "load average before: {}; after: {}",
            self.load[0], self.load[1]
        );
        println!(
            "\nwhole lifecycle of /bin/true in a busybox root (ms; peak RSS = median ru_maxrss)"
        );
        println!(
            "{:<9} {:<30} {:>8} {:>8} {:>8} {:>6} {:>9} {:>9}",
            "variant", "runtime", "median", "min", "p90", "×crun", "×unshare", "peak RSS"
        );
        let floor = self.floor();
        for c in self.cases {
            let s = stats::summarize(&c.samples);
            match (s, &c.error) {
                (Some(s), None) => println!(
                    "{:<9} {:<30} {:>8.3} {:>8.3} {:>8.3} {:>6} {:>9} {:>5.1} MiB",
                    c.variant,
                    c.runtime,
                    s.median,
                    s.min,
                    s.p90,
                    show(ratio(Some(s.median), self.median(c.variant, "crun"))),
                    show(ratio(Some(s.median), floor)),
                    stats::median_u64(&c.rss_kib).map_or(0.0, mib),
                ),
                (_, Some(e)) => println!("{:<9} {:<30} failed: {e}", c.variant, c.runtime),
                (None, None) => println!("{:<9} {:<30} no samples", c.variant, c.runtime),
            }
        }
        for b in self.breakdowns {
            println!(
                "\nwhere box's time goes: {} (median of {} runs of box up --timings, ms)",
                b.label, b.runs
            );
            if let Some(e) = &b.error {
                println!("  failed: {e}");
            }
            println!("  {:<24} {:>8} {:>8}", "step", "median", "p90");
            for (step, s) in &b.steps {
                println!("  {step:<24} {:>8.3} {:>8.3}", s.median, s.p90);
            }
            println!("  {:<24} {:>8.3}", "sum of the steps", b.step_sum());
            println!("  {:<24} {:>8.3}", "whole box up (wall)", b.wall_median);
            println!(
                "  {:<24} {:>8.3}  (spawning box, its exec, loading and box.toml, the command's execve and exit, wait, cgroup removal, box's exit)",
                "outside the steps",
                b.wall_median - b.step_sum()
            );
        }
        println!(
            "\nmemory: peak RSS (ru_maxrss: largest process of the runtime's tree), base variant"
        );
        for label in std::iter::once(BOX_UNCONFINED)
            .chain(std::iter::once(BOX_DEFAULT))
            .chain(env.runtimes.iter().map(|r| r.name))
        {
            if let Some(kib) = self.rss("base", label) {
                println!("  {label:<24} {:>6.2} MiB", mib(kib));
            }
        }
        println!(
            "  a detached container's monitor: see \"memory kept per detached container\" below"
        );
        println!("\nbinary size");
        for s in self.sizes {
            println!(
                "  {:<6} {:>9.2} MiB  + {} shared libraries {:>6.2} MiB  ({})",
                s.name,
                mib(s.bytes / 1024),
                s.libs,
                mib(s.libs_bytes / 1024),
                s.path.display()
            );
        }
        super::scale::print(self.scale);
        super::resident::print(self.resident, self.opts.scale_rounds);
        println!("  {}", super::conmon::NOT_MEASURED);
        super::detached::print(self.detached, self.opts.scale_rounds);
        self.pull.print();
        self.overlay.print();
        println!("\ngoals of issues 15 and 13 (value vs target; ratios of medians from this run)");
        for g in self.goals() {
            match g.value {
                Some(v) => println!(
                    "  {:<48} {:>7.2}{} <= {}{}  {}",
                    g.what,
                    v,
                    g.unit,
                    g.target,
                    g.unit,
                    if v <= g.target { "met" } else { "MISSED" }
                ),
                None => println!("  {:<48} not measured", g.what),
            }
        }
        for line in &env.not_run {
            println!("\nnot run: {line}");
        }
        for note in &env.notes {
            println!("\nnote: {note}");
        }
        if self.leftovers.is_empty() {
            println!("\nleft on the host: nothing (OCI state, cgroups of every runtime and of box checked)");
        } else {
            println!("\nLEFT ON THE HOST: {}", self.leftovers.join(", "));
        }
    }

    pub fn to_json(&self) -> Value {
        let env = self.env;
        let floor = self.floor();
        let cases: Vec<Value> = self
            .cases
            .iter()
            .map(|c| {
                let s = stats::summarize(&c.samples);
                let median = s.map(|s| s.median);
                json!({
                    "variant": c.variant,
                    "runtime": c.runtime,
                    "summary": s.map(Summary::to_json),
                    "ratio_to_crun": ratio(median, self.median(c.variant, "crun")).map(round3),
                    "ratio_to_unshare_floor": ratio(median, floor).map(round3),
                    "peak_rss_kib_median": stats::median_u64(&c.rss_kib),
                    "error": c.error,
                    "samples_ms": c.samples.iter().map(|&x| round3(x)).collect::<Vec<_>>(),
                    "peak_rss_kib": c.rss_kib,
                })
            })
            .collect();
        let goals: Vec<Value> = self
            .goals()
            .iter()
            .map(|g| {
                json!({
                    "goal": g.what,
                    "value": g.value.map(round3),
                    "target": g.target,
                    "met": g.value.map(|v| v <= g.target),
                })
            })
            .collect();
        json!({
            "machine": {
                "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
                "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            },
            "unix_time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            "box": { "version": env.box_version, "binary": env.box_bin },
            "runtimes": env.runtimes.iter().map(|r| json!({"name": r.name, "version": r.version, "binary": r.bin, "mount_namespace_wrapper": r.mntns.is_some()})).collect::<Vec<_>>(),
            "runs": self.opts.runs,
            "warmup": self.opts.warmup,
            "variants": super::bundle::VARIANTS.iter().map(|v| json!({"name": v.name, "about": v.about})).collect::<Vec<_>>(),
            "cases": cases,
            "breakdown": self.breakdowns.iter().map(Breakdown::to_json).collect::<Vec<_>>(),
            "scale": self.scale.iter().map(Scale::to_json).collect::<Vec<_>>(),
            "binary_sizes": self.sizes.iter().map(Size::to_json).collect::<Vec<_>>(),
            "resident_per_detached_container": self.resident.iter().map(Resident::to_json).collect::<Vec<_>>(),
            "scale_detached": self.detached.iter().map(Detached::to_json).collect::<Vec<_>>(),
            "pull": self.pull.to_json(),
            "overlay_root": self.overlay.to_json(),
            "goals": goals,
            "not_run": env.not_run,
            "notes": env.notes,
            "left_on_host": self.leftovers,
            "elapsed_s": round3(self.elapsed_s),
            "loadavg_before_after": self.load,
        })
    }
}
