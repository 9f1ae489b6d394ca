//! N bridged containers alive at once: each must get an address of its own on the bench
//! network, and all of it must go with them (checked with the bench's other leftovers).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use super::fleet::SLEEP;
use super::network;
use super::prepare::Env;
use super::scale::burst;

/// What the fleet saw.
pub struct Addresses {
    pub started: usize,
    pub distinct: usize,
    /// Why starts failed, as each failed `box up -d` said last.
    pub failed: Vec<String>,
}

impl Addresses {
    /// The line of the report, and whether the check passed.
    pub fn line(&self, n: usize) -> (String, bool) {
        let ok = self.started == n && self.distinct == n;
        let text = format!(
            "{n} bridged containers at once: {} started, {} distinct addresses{}",
            self.started,
            self.distinct,
            if self.failed.is_empty() {
                String::new()
            } else {
                format!(" (failed: {})", self.failed.join("; "))
            }
        );
        (text, ok)
    }
}

/// Starts `n` detached sleepers on the bench network at once, reads each one's address from
/// `box inspect`, and removes them all.
pub fn run(env: &Env, n: usize, box_pids: &mut Vec<i32>) -> Result<Addresses> {
    let dir = env.work.join("netfleet");
    std::fs::create_dir_all(&dir)?;
    let root = dir.join("root");
    let argv = |args: &[&str], last: &OsString| -> (Vec<OsString>, Option<i32>) {
        let mut v: Vec<OsString> = vec![env.box_bin.clone().into(), "--root".into()];
        v.push(root.clone().into());
        v.extend(args.iter().map(OsString::from));
        v.push(last.clone());
        (v, None)
    };
    let mut names = Vec::with_capacity(n);
    let mut starts = Vec::with_capacity(n);
    for k in 0..n {
        let name = format!("bench-net-{}-{k}", std::process::id());
        let file = dir.join(format!("{k}.toml"));
        std::fs::write(&file, network::toml(&env.rootfs, Some(&name), &SLEEP, &[]))?;
        starts.push(argv(&["up", "-d"], &file.into_os_string()));
        names.push(OsString::from(name));
    }
    let errors = dir.join("stderr");
    let started = burst(&starts, &errors);
    let mut addresses = BTreeSet::new();
    let mut running = 0;
    for name in &names {
        let out = Command::new(&env.box_bin)
            .arg("--root")
            .arg(&root)
            .args(["inspect", "--format", "{{.Network.IPAddress}}"])
            .arg(name)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .context("box inspect")?;
        if out.status.success() {
            running += 1;
            addresses.insert(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
    }
    let removes: Vec<_> = names.iter().map(|n| argv(&["rm", "-f"], n)).collect();
    let removed = burst(&removes, &errors);
    let started = started?;
    box_pids.extend(&started.pids);
    removed?;
    Ok(Addresses {
        started: running,
        distinct: addresses.len(),
        failed: started.failed,
    })
}
