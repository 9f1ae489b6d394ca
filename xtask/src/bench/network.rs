//! The bridged variant: box's `base` (unconfined) on a bridge network of the bench's own with
//! one port published on 127.0.0.1, measured against `base` (network `none`) in the same
//! rounds. An anchor container keeps the network in use while the cases run, so that a start
//! pays for its veth, address and port rules, not for making the bridge and nftables table
//! (which the network's first container does once); the scale test runs without it, so its
//! bursts make and remove the network too.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::bundle::{box_toml_of, VARIANTS};
use super::prepare::Env;

pub const VARIANT: &str = "bridged";
/// The scale test's row for box on a bridge.
pub const SCALE_LABEL: &str = "box (bridged)";
/// The bench's network: a name and subnet of its own, never a user's `box0`/10.88.0.0/16.
pub const NETWORK: &str = "boxbench";
const SUBNET: &str = "10.203.250.0/24";
/// Where allocations live (as box's own default).
const STORE: &str = "/run/box-net";

/// A box.toml of the `base` variant on the bench network, with `ports`.
pub fn toml(rootfs: &Path, name: Option<&str>, command: &[&str], ports: &[&str]) -> String {
    let mut t = box_toml_of(rootfs, &VARIANTS[0], true, name, command);
    // [namespaces] net = "new" is what bridge needs: no contradiction.
    t.push_str(&format!(
        "\n[network]\nmode = \"bridge\"\nname = \"{NETWORK}\"\nsubnet = \"{SUBNET}\"\nports = {ports:?}\n"
    ));
    t
}

/// Writes the bridged case's box.toml (one port on 127.0.0.1) and the scale test's (none).
pub fn write_tomls(env: &Env) -> Result<(PathBuf, PathBuf)> {
    let dir = env.work.join("box");
    std::fs::create_dir_all(&dir)?;
    let case = dir.join("bridged-unconfined.toml");
    let text = toml(&env.rootfs, None, &["/bin/true"], &["127.0.0.1:18990:80"]);
    std::fs::write(&case, &text)?;
    std::fs::write(env.out_dir.join("bridged-unconfined.toml"), &text)?;
    let scale = dir.join("bridged-scale.toml");
    std::fs::write(&scale, toml(&env.rootfs, None, &["/bin/true"], &[]))?;
    Ok((case, scale))
}

/// A detached container that keeps the bench network in use; removed on drop.
pub struct Anchor {
    box_bin: PathBuf,
    root: PathBuf,
    name: String,
}

impl Anchor {
    pub fn start(env: &Env) -> Result<Anchor> {
        let root = env.work.join("anchor-root");
        let name = format!("bench-anchor-{}", std::process::id());
        let file = env.work.join("box").join("anchor.toml");
        let text = toml(&env.rootfs, Some(&name), &["/bin/sleep", "100000"], &[]);
        std::fs::write(&file, text)?;
        let out = Command::new(&env.box_bin)
            .arg("--root")
            .arg(&root)
            .args(["up", "-d"])
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .context("start the bench network's anchor")?;
        if !out.status.success() {
            bail!(
                "the bench network's anchor did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Anchor {
            box_bin: env.box_bin.clone(),
            root,
            name,
        })
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        let _ = Command::new(&self.box_bin)
            .arg("--root")
            .arg(&self.root)
            .args(["rm", "-f", &self.name])
            .stdin(Stdio::null())
            .output();
    }
}

/// What of the bench network is still on the host: its bridge, a veth of its subnet, its
/// rules in box's nftables table, its allocations. A veth goes with its container's net
/// namespace, which the kernel tears down after the container: waited for, up to 10 s.
pub fn leftovers() -> Vec<String> {
    let mut left = leftovers_now();
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = leftovers_now();
    }
    left
}

fn leftovers_now() -> Vec<String> {
    let mut left = Vec::new();
    if Path::new(&format!("/sys/class/net/{NETWORK}")).exists() {
        left.push(format!("bridge {NETWORK}"));
    }
    // Host ends are named vb + the address in hex + a nonce: 10.203.250.x is vb0acbfa..
    if let Ok(links) = std::fs::read_dir("/sys/class/net") {
        for link in links.flatten() {
            let name = link.file_name().to_string_lossy().to_string();
            if name.starts_with("vb0acbfa") {
                left.push(format!("veth {name}"));
            }
        }
    }
    let dir = Path::new(STORE).join(NETWORK);
    if dir.exists() {
        left.push(format!("allocations {}", dir.display()));
    }
    if let Ok(out) = Command::new("nft").args(["list", "ruleset"]).output() {
        let rules = String::from_utf8_lossy(&out.stdout);
        if rules.contains(&format!("\"net {NETWORK}\""))
            || rules.contains(&format!("\"port {NETWORK}/"))
        {
            left.push(format!("nftables rules of {NETWORK}"));
        }
    }
    left
}
