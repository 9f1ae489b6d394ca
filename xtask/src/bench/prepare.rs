//! Everything the bench needs before the first measured run: box in release mode, the
//! runtimes, a busybox root, the OCI template, and a first run of each runtime.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::bundle::{self, VARIANTS};
use super::conmon;
use super::oci::{self, Oci};
use super::spawn::{self, which};
use super::Options;

pub struct Env {
    pub box_bin: PathBuf,
    /// `git describe --always --dirty` of the tree box was built from.
    pub box_version: String,
    /// `target/bench`: results.json and the work directory.
    pub out_dir: PathBuf,
    pub work: PathBuf,
    pub rootfs: PathBuf,
    pub runtimes: Vec<Oci>,
    /// The OCI config every bundle derives from (None without runc and crun).
    pub template: Option<Value>,
    /// What could not be run, and why.
    pub not_run: Vec<String>,
    /// How the anchors were run, when it differs from the obvious.
    pub notes: Vec<String>,
    pub cgroup_mounts: Vec<PathBuf>,
    /// conmon, the anchor for the memory a monitor keeps (None when it could not be installed).
    pub conmon: Option<PathBuf>,
}

pub fn prepare(opts: &Options) -> Result<Env> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the bench runs containers: run it as root");
    }
    if which("busybox").is_none() {
        apt_install(&["busybox-static"])?;
    }
    let box_bin = match &opts.box_bin {
        Some(bin) => bin.clone(),
        None => build_box()?,
    };
    // The workspace's target directory, wherever the measured binary is (`--box /tmp/box`
    // must not write beside it, in `/bench`).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let out_dir = target.join("bench");
    let work = out_dir.join("work");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clear {}", work.display()))?;
    }
    let rootfs = box_tests::busybox_rootfs_at(&work.join("rootfs"))
        .context("build the busybox root filesystem")?;
    let (runtimes, mut not_run) = oci::find(&|pkgs| apt_install(pkgs));
    let conmon = conmon::find(&|pkgs| apt_install(pkgs))
        .map_err(|e| not_run.push(e))
        .ok();
    let template = match runtimes.iter().find(|r| r.name != "youki") {
        Some(rt) => Some(bundle::template(&rt.bin, &work.join("spec"), &rootfs)?),
        None => None,
    };
    let mut env = Env {
        box_bin,
        box_version: match &opts.box_bin {
            // Built from some other tree: the working tree says nothing about it.
            Some(bin) => format!("given with --box ({})", bin.display()),
            None => git_describe(),
        },
        out_dir,
        work,
        rootfs,
        runtimes,
        template,
        not_run,
        notes: Vec::new(),
        cgroup_mounts: box_tests::cgroup_mounts(),
        conmon,
    };
    let mut binaries = vec![env.box_bin.clone()];
    binaries.extend(env.runtimes.iter().map(|rt| rt.bin.clone()));
    for bin in &binaries {
        evict(bin).with_context(|| format!("drop {} from the page cache", bin.display()))?;
    }
    probe_runtimes(&mut env);
    Ok(env)
}

/// Writes `file` back and drops it from the page cache, so that every measured binary is read
/// back as after a boot. How a file sits in the page cache changes the peak RSS of a process
/// running it: a file just written (box, by the linker moments before) is held in large folios,
/// and each page fault maps more of it than of a file read back from disk. Measured: the same
/// box binary, a fresh copy 1988 KiB (`/usr/bin/time` %M), evicted and read back 1668 KiB, the
/// same number of faults (~203) both ways. The warm-up runs read it in again.
fn evict(file: &Path) -> Result<()> {
    let f = std::fs::File::open(file)?;
    f.sync_all()?;
    nix::fcntl::posix_fadvise(
        &f,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    )?;
    Ok(())
}

/// One run of each runtime in the base variant. crun that refuses the hybrid host is tried
/// again in a mount namespace without the cgroup2 mount; a runtime that still fails is
/// dropped, with its message.
fn probe_runtimes(env: &mut Env) {
    let Some(template) = env.template.clone() else {
        return;
    };
    let config = bundle::for_variant(&template, &VARIANTS[0]);
    let runtimes = std::mem::take(&mut env.runtimes);
    for mut rt in runtimes {
        let dir = env.work.join("probe").join(rt.name);
        let mut result = probe(&rt, &dir, &config, &env.cgroup_mounts);
        if let (Err(first), "crun") = (result.clone(), rt.name) {
            let unified = env
                .cgroup_mounts
                .iter()
                .find(|m| m.ends_with("unified"))
                .cloned();
            if let Some(unified) = unified {
                match oci::v1_only_mount_namespace(&unified) {
                    Ok(fd) => {
                        rt.mntns = Some(fd);
                        result = probe(&rt, &dir, &config, &env.cgroup_mounts);
                        if result.is_ok() {
                            env.notes.push(format!(
                                "crun fails in the host's mount namespace on this hybrid host ({first}); \
                                 it works in a private mount namespace where {} is unmounted, so it sees \
                                 cgroup v1 only. The bench makes that namespace once and each crun run \
                                 enters it with setns(2) in the spawned child before exec: no extra \
                                 process, one syscall counted in crun's time.",
                                unified.display()
                            ));
                        }
                    }
                    Err(e) => {
                        result = Err(format!("{first}; and no mount namespace for it: {e:#}"))
                    }
                }
            }
        }
        match result {
            Ok(()) => env.runtimes.push(rt),
            Err(e) => {
                // Its probe's cgroup is gone; the parent the runtime made for it goes too
                // (the final check removes only the parents of the runtimes that ran).
                rt.remove_parents(&env.cgroup_mounts);
                env.not_run
                    .push(format!("{} ({}): fails here: {e}", rt.name, rt.version))
            }
        }
    }
}

fn probe(rt: &Oci, dir: &Path, config: &Value, mounts: &[PathBuf]) -> Result<(), String> {
    let id = format!("bench-{}-{}-probe", rt.name, std::process::id());
    let cgroups_path = format!("/{}/{id}", rt.cgroup_parent());
    bundle::write(dir, config, &cgroups_path).map_err(|e| format!("{e:#}"))?;
    let argv = rt.argv(dir, &id);
    let out = spawn::command(&argv, rt.mntns_fd())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    rt.cleanup(&id, mounts);
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stderr);
            let last = text.lines().last().unwrap_or("").trim().to_string();
            Err(format!("{last:?}, {}", o.status))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The release build of box as it ships; returns box's path as cargo reports it. `box` is
/// statically linked (glibc's `crt-static`), which halves the CPU time of its start-up (no
/// `ld.so`, no relocations of four shared libraries) and takes a quarter off its peak RSS
/// (see docs/performance.md), with its functions in the order of `cli/box.order` (`cargo
/// xtask layout`). The flags go to the final link of `box` only: given to every crate
/// (RUSTFLAGS) they would also reach the proc-macros, which cannot be static. `box-fetch`
/// (pulls and loads, which box execs from its own directory) is built next to it as usual:
/// it is not on the start path.
pub(crate) fn build_box() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let fetch = Command::new(&cargo)
        .args(["build", "--release", "-p", "box-cli", "--bin", "box-fetch"])
        .current_dir(crate::workspace_root())
        .status()
        .with_context(|| format!("run {cargo} build"))?;
    if !fetch.success() {
        bail!("cargo build --release -p box-cli --bin box-fetch failed ({fetch})");
    }
    let order = crate::workspace_root().join(crate::layout::ORDER_FILE);
    build_box_with(None, Build::Dist, order.exists().then_some(order.as_path()))
}

/// How [`build_box_with`] builds box.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// As it ships: position-independent (the kernel places it anywhere), no symbols.
    Dist,
    /// For `cargo xtask layout`'s trace: the same code and symbol names, kept, at the
    /// addresses the symbols say (not position-independent).
    Traceable,
}

/// `box` built as [`build_box`] builds it, into `target_dir` (else the workspace's), in the
/// order of the functions listed in `order`.
pub(crate) fn build_box_with(
    target_dir: Option<&Path>,
    build: Build,
    order: Option<&Path>,
) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args: Vec<String> = [
        "rustc",
        "--release",
        "-p",
        "box-cli",
        "--bin",
        "box",
        "--message-format=json-render-diagnostics",
    ]
    .map(String::from)
    .to_vec();
    if let Some(dir) = target_dir {
        args.extend(["--target-dir".into(), dir.display().to_string()]);
    }
    args.extend(["--", "-C", "target-feature=+crt-static"].map(String::from));
    if build == Build::Traceable {
        // Flags of this command line, not the profile's `strip = false`: a profile setting
        // is part of the hash in every crate's symbol names, which then would not be the
        // names `box.order` lists.
        args.extend(["-C", "strip=none", "-C", "relocation-model=static"].map(String::from));
    }
    if let Some(order) = order {
        // Cargo does not know the file: a copy named by its content makes a new list a new
        // command line, so that box is linked again. Names the code no longer has are
        // skipped, quietly: the list is a hint.
        let order = content_named_copy(order, target_dir)?;
        args.extend([
            "-C".into(),
            format!("link-arg=-Wl,--symbol-ordering-file={}", order.display()),
            "-C".into(),
            "link-arg=-Wl,--no-warn-symbol-ordering".into(),
        ]);
    }
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut child = Command::new(&cargo)
        .args(&args)
        .current_dir(crate::workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("run {cargo} rustc"))?;
    let mut bin = None;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(msg) = serde_json::from_str::<Value>(&line?) else {
                continue;
            };
            if msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "box" {
                if let Some(exe) = msg["executable"].as_str() {
                    bin = Some(PathBuf::from(exe));
                }
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo rustc --release -p box-cli failed ({status})");
    }
    bin.context("cargo did not report box's binary")
}

/// A copy of `file` in the target directory whose name holds a hash of its content.
fn content_named_copy(file: &Path, target_dir: Option<&Path>) -> Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let text = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let dir = target_dir.map_or_else(|| crate::workspace_root().join("target"), Path::to_path_buf);
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let copy = dir.join(format!("box-{:016x}.order", hasher.finish()));
    std::fs::write(&copy, &text).with_context(|| format!("write {}", copy.display()))?;
    Ok(copy)
}

/// Installs Debian packages (we run as root on a Debian machine).
pub(super) fn apt_install(packages: &[&str]) -> Result<()> {
    eprintln!("bench: apt-get install {}", packages.join(" "));
    let quiet = |cmd: &mut Command| -> Result<()> {
        let out = cmd
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .with_context(|| format!("run {cmd:?}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            bail!("{cmd:?} failed ({}): {}", out.status, err.trim());
        }
        Ok(())
    };
    quiet(Command::new("apt-get").args(["update", "-qq"]))?;
    quiet(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages),
    )
}

fn git_describe() -> String {
    Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(crate::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
