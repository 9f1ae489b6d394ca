//! After the runs: what each binary weighs, and proof that nothing was left on the host.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::prepare::Env;

pub struct Size {
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// The shared libraries it loads (as ldd lists them), summed; 0 for a static binary.
    pub libs_bytes: u64,
    pub libs: usize,
}

pub fn sizes(env: &Env) -> Vec<Size> {
    let mut bins = vec![("box".to_string(), env.box_bin.clone())];
    bins.extend(
        env.runtimes
            .iter()
            .map(|r| (r.name.to_string(), r.bin.clone())),
    );
    bins.into_iter()
        .filter_map(|(name, path)| {
            let bytes = std::fs::metadata(&path).ok()?.len();
            let libs = shared_libs(&path);
            Some(Size {
                name,
                bytes,
                libs_bytes: libs
                    .iter()
                    .filter_map(|l| std::fs::metadata(l).ok())
                    .map(|m| m.len())
                    .sum(),
                libs: libs.len(),
                path,
            })
        })
        .collect()
}

/// The resolved paths `ldd` prints (none for a static binary).
fn shared_libs(bin: &Path) -> Vec<PathBuf> {
    let Ok(out) = Command::new("ldd").arg(bin).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

impl Size {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "path": self.path,
            "bytes": self.bytes,
            "shared_libs": self.libs,
            "shared_libs_bytes": self.libs_bytes,
        })
    }
}

/// Removes the runtimes' cgroup parents, then lists anything of the bench still on the host:
/// OCI state, cgroup directories, box's `box/box-<pid>` cgroups.
pub fn leftovers(env: &Env, box_pids: &[i32]) -> Vec<String> {
    let mut left = Vec::new();
    for rt in &env.runtimes {
        rt.remove_parents(&env.cgroup_mounts);
        for mount in &env.cgroup_mounts {
            let dir = mount.join(rt.cgroup_parent());
            if dir.exists() {
                left.push(format!("cgroup {}", dir.display()));
            }
        }
        let prefix = format!("bench-{}-", rt.name);
        if let Ok(entries) = std::fs::read_dir(&rt.state_root) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    left.push(format!("{} state {}", rt.name, e.path().display()));
                }
            }
        }
    }
    for mount in &env.cgroup_mounts {
        let parent = mount.join("box");
        if !parent.is_dir() {
            continue;
        }
        for pid in box_pids {
            let dir = parent.join(format!("box-{pid}"));
            if dir.exists() {
                left.push(format!("cgroup {}", dir.display()));
            }
        }
    }
    left
}

/// box's state root for the bench's detached containers: removed when empty, else listed.
pub fn box_root_left() -> Vec<String> {
    let root = super::fleet::box_root();
    let entries: Vec<String> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| format!("box state {}", e.path().display()))
        .collect();
    if entries.is_empty() {
        let _ = std::fs::remove_dir(&root);
    }
    entries
}
