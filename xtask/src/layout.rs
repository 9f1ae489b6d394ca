//! `cargo xtask layout`: writes `cli/box.order`, box's functions in the order its starts first
//! run them, which `cargo xtask dist` gives the linker (`--symbol-ordering-file`).
//!
//! Why: the kernel maps a binary's pages into a process 64 KiB at a time around each page it
//! touches (fault-around). With the start's functions spread over box's 3 MiB of code, a start
//! kept nearly all of it resident; packed together at the front, it keeps about their size.
//! A detached container's monitor gets its own group first: the few functions it runs while
//! the container runs, so that it keeps few pages of box once it gave the rest back.
//!
//! The list comes from traced runs (`trace.rs`) of the release binary, built as `dist` builds
//! it but with its symbols: a foreground start with the default seccomp profile and one
//! unconfined, and a detached start whose container `box rm -f` ends. A name the code no
//! longer has is skipped by the linker; rerun this after changing the start path.

mod trace;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::unistd::Pid;

use crate::bench::{build_box_with, Build};

/// The order file, beside box's own crate.
pub const ORDER_FILE: &str = "cli/box.order";
/// The traced bridged start's network: its own, never a user's `box0` nor the bench's.
const NETWORK: &str = "boxlayout";
const SUBNET: &str = "10.203.249.0/24";
const PORT: u16 = 18989;

pub fn run() -> Result<()> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the traced runs start containers: run it as root");
    }
    let target = crate::workspace_root().join("target/layout");
    let exe = build_box_with(Some(&target), Build::Traceable, None)?;
    let names = functions(&exe)?;
    let addrs: Vec<u64> = names.keys().copied().collect();
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let rootfs = box_tests::busybox_rootfs_at(&dir.path().join("rootfs"))
        .context("build the busybox root filesystem")?;
    let state = dir.path().join("state");
    let rootfs = rootfs.display();
    // A box.toml of `name` running `command` in the busybox root, plus `extra` sections.
    let write = |name: &str, command: &str, extra: &str| -> Result<PathBuf> {
        let path = dir.path().join(format!("{name}.toml"));
        let text =
            format!("name = \"{name}\"\ncommand = {command}\nrootfs = \"{rootfs}\"\n{extra}");
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    };
    const TRUE: &str = "[\"/bin/true\"]";
    const UNCONFINED: &str = "[security]\nseccomp = \"unconfined\"\n";
    // The bench's variants, the plainest first (what a later start adds goes behind what
    // the earlier ones ran): none in the host's cgroup namespace (whose v1 cgroups a hybrid
    // host makes after "go"), a memory limit there, the default profile, limits and a cgroup
    // namespace, a bridge with a published port.
    const HOST_CGROUPNS: &str = "[namespaces]\ncgroup = \"host\"\n";
    let unconfined = write("layout-a", TRUE, &format!("{UNCONFINED}{HOST_CGROUPNS}"))?;
    let memory = write(
        "layout-f",
        TRUE,
        &format!("{UNCONFINED}{HOST_CGROUPNS}[resources]\nmemory = \"200m\"\n"),
    )?;
    let default = write("layout-b", TRUE, "")?;
    let limited = write(
        "layout-e",
        TRUE,
        "[namespaces]\ncgroup = \"new\"\n[resources]\nmemory = \"200m\"\ncpus = 1.5\npids = 100\n",
    )?;
    let bridged = write(
        "layout-d",
        TRUE,
        &format!("{UNCONFINED}[network]\nmode = \"bridge\"\nname = \"{NETWORK}\"\nsubnet = \"{SUBNET}\"\nports = [\"127.0.0.1:{PORT}:80\"]\n"),
    )?;
    let detached = write("layout-c", "[\"/bin/sleep\", \"600\"]", "")?;
    let up = |toml: &Path, detach: bool| {
        let mut argv = vec![
            "box".to_string(),
            "--root".into(),
            state.display().to_string(),
            "up".into(),
        ];
        if detach {
            argv.push("-d".into());
        }
        argv.push(toml.display().to_string());
        argv
    };
    let mut order: Vec<u64> = Vec::new();
    let mut rest: Vec<u64> = Vec::new();
    for toml in [&unconfined, &memory, &default, &limited, &bridged] {
        let t = trace::run(&exe, &up(toml, false), &addrs, None, None)?;
        rest.extend(&t.hits);
    }
    let mut remove = || -> Result<Pid> {
        let child = Command::new(&exe)
            .arg("--root")
            .arg(&state)
            .args(["rm", "-f", "layout-c"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("run box rm -f")?;
        Ok(Pid::from_raw(child.id() as i32))
    };
    let after = trace::Afterwards {
        idle: Duration::from_millis(500),
        then: &mut remove,
    };
    // The monitor gives box's pages back (`trim::give_back`), then runs these while the
    // container runs, and to end it.
    let release = names
        .iter()
        .find(|(_, (_, n))| n.iter().any(|n| n.contains("4trim9give_back")))
        .map(|(addr, _)| *addr)
        .context("box has no function commands::trim::give_back")?;
    let t = trace::run(
        &exe,
        &up(&detached, true),
        &addrs,
        Some(release),
        Some(after),
    )?;
    if t.late_hits.is_empty() {
        bail!("the detached trace never reached trim::give_back");
    }
    // What it enters (in first-run order: the wait loop's before the end's), then the
    // functions it returns to: only their code around the calls runs while it waits, and
    // the stack also holds stale words into functions long left (found by a conservative
    // look at the stack: each word that falls inside a function).
    let returns_to = |word: &u64| {
        let (&start, (size, _)) = names.range(..=*word).next_back()?;
        (*word > start && *word < start + size).then_some(start)
    };
    order.extend(&t.late_hits);
    order.extend(t.stack_at_rearm.iter().filter_map(returns_to));
    rest.extend(&t.hits);
    let steady = order.len();
    order.extend(rest);
    let mut listed = HashSet::new();
    let mut text = String::new();
    for addr in order.into_iter().filter(|a| listed.insert(*a)) {
        for name in &names[&addr].1 {
            text.push_str(name);
            text.push('\n');
        }
    }
    let path = crate::workspace_root().join(ORDER_FILE);
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    println!(
        "{}: {} functions of {} ({steady} the monitor's while its container runs)",
        path.display(),
        listed.len(),
        addrs.len()
    );
    Ok(())
}

/// Every function symbol of `exe` by address: its size and names (aliases share one), from
/// `nm`.
fn functions(exe: &Path) -> Result<BTreeMap<u64, (u64, Vec<String>)>> {
    let out = Command::new("nm")
        .args(["--defined-only", "-S"])
        .arg(exe)
        .output()
        .context("run nm (binutils)")?;
    if !out.status.success() {
        bail!("nm {}: {}", exe.display(), out.status);
    }
    let mut names: BTreeMap<u64, (u64, Vec<String>)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [addr, size, kind, name] = fields[..] else {
            continue;
        };
        let (Ok(addr), Ok(size)) = (u64::from_str_radix(addr, 16), u64::from_str_radix(size, 16))
        else {
            continue;
        };
        if size > 0 && matches!(kind, "t" | "T" | "W" | "w") {
            let entry = names.entry(addr).or_insert((size, Vec::new()));
            entry.0 = entry.0.max(size);
            entry.1.push(name.to_string());
        }
    }
    if names.is_empty() {
        bail!("{} has no function symbols (stripped?)", exe.display());
    }
    Ok(names)
}
