//! `cargo xtask fuzz`: a short run of each cargo-fuzz target (fuzz/) from its committed corpus,
//! failing on the first crash with the path of the input that caused it. See docs/fuzzing.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--stable] [TARGET]

  Runs each fuzz target (or only TARGET) for N seconds (default 30), starting from its
  committed corpus fuzz/corpus/TARGET; new inputs it finds go to fuzz/target/corpus/TARGET.
  Fails on the first crash, timeout or out-of-memory, naming the input that caused it.
  Installs cargo-fuzz with `cargo install` when it is missing.

  Targets: box_toml, seccomp_json, format_template.

  cargo-fuzz needs a nightly compiler: the installed nightly toolchain when rustup has one,
  otherwise (or with --stable) the default toolchain with RUSTC_BOOTSTRAP=1.";

const TARGETS: &[&str] = &["box_toml", "seccomp_json", "format_template"];

/// The cargo-fuzz release line this was written against (`cargo install --version`).
const CARGO_FUZZ_VERSION: &str = "^0.13";

/// libFuzzer's per-input time limit, in seconds: every target handles an input in
/// milliseconds, so one that takes this long is a hang.
const INPUT_TIMEOUT: u32 = 10;

struct Options {
    seconds: u32,
    stable: bool,
    targets: Vec<&'static str>,
}

pub fn run(args: &[&str]) -> Result<()> {
    if args.contains(&"--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let options = parse(args)?;
    let toolchain = Toolchain::pick(options.stable);
    eprintln!("xtask: fuzzing with {}", toolchain.describe());
    ensure_cargo_fuzz(&toolchain)?;
    for target in &options.targets {
        fuzz_one(&toolchain, target, options.seconds)?;
    }
    Ok(())
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        seconds: 30,
        stable: false,
        targets: TARGETS.to_vec(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--seconds" => {
                let n = rest.next().context("--seconds needs a number")?;
                options.seconds = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--seconds {n:?}: a positive number"))?;
            }
            "--stable" => options.stable = true,
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(t) => options.targets = vec![t],
                None => bail!("unknown fuzz target {name:?}\n\n{USAGE}"),
            },
        }
    }
    Ok(options)
}

/// Which compiler builds the targets: cargo-fuzz passes `-Z` flags (sanitizers, coverage).
enum Toolchain {
    /// rustup's `nightly`, as `cargo +nightly`.
    Nightly,
    /// The default toolchain, with `RUSTC_BOOTSTRAP=1` unlocking `-Z` flags: a machine with
    /// one stable toolchain and no way to fetch another (CI here) still fuzzes.
    Bootstrapped,
}

impl Toolchain {
    fn pick(force_stable: bool) -> Toolchain {
        let nightly = !force_stable
            && clean_command("rustc")
                .args(["+nightly", "--version"])
                .output()
                .is_ok_and(|o| o.status.success());
        if nightly {
            Toolchain::Nightly
        } else {
            Toolchain::Bootstrapped
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Toolchain::Nightly => "the nightly toolchain",
            Toolchain::Bootstrapped => "the default toolchain and RUSTC_BOOTSTRAP=1",
        }
    }

    /// `cargo` (through rustup's proxy, so `+nightly` works) for this toolchain.
    fn cargo(&self) -> Command {
        let mut cmd = clean_command("cargo");
        match self {
            Toolchain::Nightly => {
                cmd.arg("+nightly");
            }
            Toolchain::Bootstrapped => {
                cmd.env("RUSTC_BOOTSTRAP", "1");
            }
        }
        cmd.current_dir(crate::workspace_root());
        cmd
    }
}

/// `program` without what `cargo xtask` itself runs under (the outer cargo's toolchain and
/// compiler), so that the toolchain chosen here is the one that builds.
fn clean_command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn ensure_cargo_fuzz(toolchain: &Toolchain) -> Result<()> {
    let present = toolchain
        .cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz");
    let status = clean_command("cargo")
        .args(["install", "--locked", "cargo-fuzz", "--version"])
        .arg(CARGO_FUZZ_VERSION)
        .status()
        .context("run cargo install cargo-fuzz")?;
    if !status.success() {
        bail!("cargo install cargo-fuzz failed ({status})");
    }
    Ok(())
}

fn fuzz_one(toolchain: &Toolchain, target: &str, seconds: u32) -> Result<()> {
    let root = crate::workspace_root();
    let seeds = root.join("fuzz/corpus").join(target);
    // New inputs go here, not into the committed corpus: a run leaves the tree clean.
    let found = root.join("fuzz/target/corpus").join(target);
    std::fs::create_dir_all(&found).with_context(|| format!("create {}", found.display()))?;
    let artifacts = root.join("fuzz/artifacts").join(target);
    let before = files_in(&artifacts);
    eprintln!("xtask: fuzzing {target} for {seconds} s");
    let mut cmd = toolchain.cargo();
    cmd.args(["fuzz", "run", "--debug-assertions", target])
        .arg(&found)
        .arg(&seeds)
        .arg("--");
    // Words the parser compares against, which mutation alone rarely spells.
    let dict = root.join("fuzz/dict").join(format!("{target}.dict"));
    if dict.is_file() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    let status = cmd
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT}"))
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .status()
        .with_context(|| format!("run cargo fuzz run {target}"))?;
    if status.success() {
        return Ok(());
    }
    let new: Vec<PathBuf> = files_in(&artifacts).difference(&before).cloned().collect();
    if new.is_empty() {
        bail!("cargo fuzz run {target} failed ({status})");
    }
    for input in &new {
        eprintln!("xtask: {target}: reproducer {}", input.display());
    }
    bail!(
        "{target} crashed: replay with `{} fuzz run --debug-assertions {target} {}`, then \
         add the input to fuzz/corpus/{target}/ with the fix",
        match toolchain {
            Toolchain::Nightly => "cargo +nightly",
            Toolchain::Bootstrapped => "RUSTC_BOOTSTRAP=1 cargo",
        },
        new[0].display()
    )
}

fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse() {
        let o = parse(&[]).unwrap();
        assert_eq!((o.seconds, o.stable, o.targets.len()), (30, false, 3));
        let o = parse(&["--seconds", "5", "seccomp_json", "--stable"]).unwrap();
        assert_eq!(
            (o.seconds, o.stable, o.targets),
            (5, true, vec!["seccomp_json"])
        );
        assert!(parse(&["--seconds"]).is_err());
        assert!(parse(&["--seconds", "0"]).is_err());
        assert!(parse(&["nope"]).is_err());
    }
}
