//! What the kernel says is left: processes (found by the `CHAOS` variable every container of
//! the run carries), cgroup directories, mounts and state directories.

use std::path::Path;
use std::time::{Duration, Instant};

use procfs_core::process::Stat;
use procfs_core::FromRead;

use super::run::Env;

/// The `CHAOS` value of one container: `<token>/<name>`.
pub fn tag(env: &Env, name: &str) -> String {
    format!("{}/{name}", env.token)
}

/// Live (not zombie) processes whose `CHAOS` variable satisfies `wanted`.
fn processes_where(wanted: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            environ
                .split(|b| *b == 0)
                .filter_map(|var| var.strip_prefix(b"CHAOS="))
                .any(&wanted)
                && !zombie(*pid)
        })
        .collect()
}

/// Every live process of the run.
pub fn processes(env: &Env) -> Vec<i32> {
    let prefix = format!("{}/", env.token);
    processes_where(|value| value.starts_with(prefix.as_bytes()))
}

/// A zombie, or gone.
fn zombie(pid: i32) -> bool {
    Stat::from_file(format!("/proc/{pid}/stat")).map_or(true, |s| matches!(s.state, 'Z' | 'X'))
}

/// The container's processes, once those already killed have had `grace` to die: a SIGKILLed
/// process needs a moment to leave, which says nothing about box.
pub fn survivors(env: &Env, name: &str, grace: Duration) -> Vec<i32> {
    let tag = tag(env, name);
    let started = Instant::now();
    loop {
        let left = processes_where(|value| value == tag.as_bytes());
        if left.is_empty() || started.elapsed() > grace {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Cgroup directories `box/<name>` that still exist, in any hierarchy.
pub fn cgroups(name: &str) -> Vec<String> {
    box_tests::cgroup_dirs(name)
        .into_iter()
        .filter(|d| d.exists())
        .map(|d| d.display().to_string())
        .collect()
}

/// Everything the run left: state entries, cgroups, processes, mounts.
pub fn leftovers(env: &Env) -> Vec<String> {
    let mut left = Vec::new();
    for root in [env.state.clone(), env.work.path().join("full")] {
        if let Ok(dir) = std::fs::read_dir(&root) {
            for e in dir.filter_map(|e| e.ok()) {
                let name = e.file_name().to_string_lossy().into_owned();
                if name != "filler" {
                    left.push(format!("state {}", root.join(name).display()));
                }
            }
        }
    }
    let prefix = format!("chaos-{}-", env.token);
    for mount in box_tests::cgroup_mounts() {
        if let Ok(dir) = std::fs::read_dir(mount.join("box")) {
            for e in dir.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    left.push(format!("cgroup {}", e.path().display()));
                }
            }
        }
    }
    for pid in processes(env) {
        left.push(format!("process {pid}"));
    }
    let work = env.work.path();
    match super::run::mount_table() {
        Ok(mounts) => {
            for m in mounts {
                if m.mount_point.starts_with(work) || m.root.starts_with(work) {
                    left.push(format!("mount {m:?}"));
                }
            }
        }
        Err(e) => left.push(format!("mounts not known: {e}")),
    }
    left
}

/// Kills what a failed run left running and removes its cgroups, so the machine stays clean.
pub fn kill_strays(env: &Env) {
    for pid in processes(env) {
        // SAFETY: kill with a pid read from /proc and a valid signal touches no memory.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    std::thread::sleep(Duration::from_millis(200));
    let prefix = format!("chaos-{}-", env.token);
    for mount in box_tests::cgroup_mounts() {
        let parent = mount.join("box");
        if let Ok(dir) = std::fs::read_dir(&parent) {
            for e in dir.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    remove_cgroup(&e.path());
                }
            }
        }
    }
}

/// rmdir of a cgroup and its children, deepest first.
fn remove_cgroup(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(|e| e.ok()) {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
