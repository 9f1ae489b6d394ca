//! The measured cases (each runtime in each variant, and the floors) and the interleaved loop
//! that runs them: round after round, every case once per round, so that drift of the
//! machine (caches, frequency, other load) hits every case alike.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::Value;

use super::bundle::{self, VARIANTS};
use super::prepare::Env;
use super::spawn::{self, Sample};

pub const BOX_UNCONFINED: &str = "box (unconfined)";
pub const BOX_DEFAULT: &str = "box (default seccomp)";
pub const FLOOR: &str = "floor";
pub const UNSHARE: &str = "unshare -fpnmuiC --mount-proc";
pub const FORK_EXEC: &str = "fork+exec /bin/true";
pub const REF: &str = "ref";
pub const BOX_VALIDATE: &str = "box validate (start-up)";

pub enum Target {
    Box {
        toml: PathBuf,
    },
    /// `runtimes[rt]` running `config` in `bundle`.
    Oci {
        rt: usize,
        bundle: PathBuf,
        config: Value,
    },
    Plain {
        argv: Vec<OsString>,
    },
}

pub struct Case {
    pub variant: &'static str,
    pub runtime: String,
    pub target: Target,
    pub samples: Vec<f64>,
    pub rss_kib: Vec<u64>,
    /// Set at its first failure; the case is not run again.
    pub error: Option<String>,
}

impl Case {
    fn new(variant: &'static str, runtime: &str, target: Target) -> Case {
        Case {
            variant,
            runtime: runtime.to_string(),
            target,
            samples: Vec::new(),
            rss_kib: Vec::new(),
            error: None,
        }
    }
}

/// Every case: box twice, each OCI runtime, per variant; then the two floors.
pub fn build(env: &Env) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for v in VARIANTS {
        for (label, unconfined) in [(BOX_UNCONFINED, true), (BOX_DEFAULT, false)] {
            let toml = env.work.join("box").join(format!(
                "{}-{}.toml",
                v.name,
                if unconfined { "unconfined" } else { "default" }
            ));
            std::fs::create_dir_all(env.work.join("box"))?;
            let text = bundle::box_toml(&env.rootfs, v, unconfined);
            std::fs::write(&toml, &text)?;
            std::fs::write(
                env.out_dir.join(toml.file_name().unwrap_or_default()),
                &text,
            )?;
            cases.push(Case::new(v.name, label, Target::Box { toml }));
        }
        if let Some(template) = &env.template {
            // A copy of what the runtimes run, kept beside results.json.
            let config = bundle::for_variant(template, v);
            let kept = env.out_dir.join(format!("config-{}.json", v.name));
            std::fs::write(kept, serde_json::to_string_pretty(&config)?)?;
            for (rt, oci) in env.runtimes.iter().enumerate() {
                let target = Target::Oci {
                    rt,
                    bundle: env
                        .work
                        .join("bundles")
                        .join(format!("{}-{}", oci.name, v.name)),
                    config: bundle::for_variant(template, v),
                };
                cases.push(Case::new(v.name, oci.name, target));
            }
        }
    }
    // box only: the OCI runtimes have no networks of their own (they leave that to CNI).
    let (bridged, _) = super::network::write_tomls(env)?;
    cases.push(Case::new(
        super::network::VARIANT,
        BOX_UNCONFINED,
        Target::Box { toml: bridged },
    ));
    let unshare: Vec<OsString> = ["unshare", "-fpnmuiC", "--mount-proc", "/bin/true"]
        .map(OsString::from)
        .to_vec();
    cases.push(Case::new(FLOOR, UNSHARE, Target::Plain { argv: unshare }));
    let true_argv = vec![OsString::from("/bin/true")];
    cases.push(Case::new(
        FLOOR,
        FORK_EXEC,
        Target::Plain { argv: true_argv },
    ));
    // box's own start-up cost: exec, dynamic loading, reading and checking box.toml.
    let validate = vec![
        env.box_bin.clone().into(),
        "validate".into(),
        env.work.join("box").join("base-unconfined.toml").into(),
    ];
    cases.push(Case::new(
        REF,
        BOX_VALIDATE,
        Target::Plain { argv: validate },
    ));
    Ok(cases)
}

/// (runtime index, container id) of one OCI run.
type OciRun = (usize, String);

/// Runs cases and keeps what must be checked or removed afterwards.
pub struct Runner<'a> {
    pub env: &'a Env,
    counter: usize,
    /// Every box process started: its container is named `box-<pid>`.
    pub box_pids: Vec<i32>,
}

impl<'a> Runner<'a> {
    pub fn new(env: &'a Env) -> Runner<'a> {
        Runner {
            env,
            counter: 0,
            box_pids: Vec::new(),
        }
    }

    /// A fresh container id for runtime `rt`, unique in this bench.
    pub fn next_id(&mut self, rt: usize) -> String {
        self.counter += 1;
        let name = self.env.runtimes[rt].name;
        format!("bench-{name}-{}-{}", std::process::id(), self.counter)
    }

    /// The command line of one run (writing its bundle's config first), its mount namespace,
    /// and the OCI container id to clean up after it.
    fn argv(&mut self, target: &Target) -> Result<(Vec<OsString>, Option<i32>, Option<OciRun>)> {
        Ok(match target {
            Target::Box { toml } => (
                vec![self.env.box_bin.clone().into(), "up".into(), toml.into()],
                None,
                None,
            ),
            Target::Oci { rt, bundle, config } => {
                let id = self.next_id(*rt);
                let oci = &self.env.runtimes[*rt];
                bundle::write(bundle, config, &format!("/{}/{id}", oci.cgroup_parent()))?;
                (oci.argv(bundle, &id), oci.mntns_fd(), Some((*rt, id)))
            }
            Target::Plain { argv } => (argv.clone(), None, None),
        })
    }

    fn cleanup(&mut self, oci: Option<OciRun>) {
        if let Some((rt, id)) = oci {
            self.env.runtimes[rt].cleanup(&id, &self.env.cgroup_mounts);
        }
    }

    /// One timed run of `target`.
    pub fn run(&mut self, target: &Target) -> Result<Sample> {
        let (argv, mntns, oci) = self.argv(target)?;
        let sample = spawn::timed(&mut spawn::command(&argv, mntns));
        if let (Ok(s), Target::Box { .. }) = (&sample, target) {
            self.box_pids.push(s.pid);
        }
        self.cleanup(oci);
        sample
    }

    /// Runs `target` once more with its output captured, to say why it failed.
    pub fn why_failed(&mut self, target: &Target) -> String {
        match self.argv(target) {
            Ok((argv, mntns, oci)) => {
                let why = spawn::why_failed(&argv, mntns);
                self.cleanup(oci);
                why
            }
            Err(e) => format!("{e:#}"),
        }
    }
}

/// `warmup + runs` rounds; in each, every case once, in a new random order. Random, not
/// rotated: what a run costs can depend on the run just before it (on cgroup v1 the first
/// attach after a quiet spell waits for an RCU grace period), so no case may always follow
/// the same one.
pub fn measure(cases: &mut [Case], runner: &mut Runner<'_>, warmup: usize, runs: usize) {
    let rounds = warmup + runs;
    let n = cases.len();
    let mut rng = Shuffle::seeded();
    let mut order: Vec<usize> = (0..n).collect();
    for round in 0..rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let case = &mut cases[i];
            if case.error.is_some() {
                continue;
            }
            match runner.run(&case.target) {
                Ok(s) if s.code == 0 => {
                    if round >= warmup {
                        case.samples.push(s.ms);
                        case.rss_kib.push(s.maxrss_kib);
                    }
                }
                Ok(s) => {
                    let why = runner.why_failed(&case.target);
                    case.error = Some(format!("exit {}: {why}", s.code));
                }
                Err(e) => case.error = Some(format!("{e:#}")),
            }
        }
        if (round + 1) % 10 == 0 || round + 1 == rounds {
            eprintln!("bench: round {}/{rounds}", round + 1);
        }
    }
}

/// xorshift64*: enough to shuffle an order, no dependency needed.
struct Shuffle(u64);

impl Shuffle {
    fn seeded() -> Shuffle {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Shuffle((nanos ^ u64::from(std::process::id())) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Fisher-Yates.
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shuffle;

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = Shuffle(42);
        let mut v: Vec<usize> = (0..18).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..18).collect::<Vec<_>>());
    }
}
