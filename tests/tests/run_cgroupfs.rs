//! Docker's `/sys/fs/cgroup`: a container in a cgroup namespace of its own sees its own
//! cgroups there, read-only — its limits where JVMs and `nproc`-aware runtimes look for them —
//! and nothing of the host's other cgroups. Checked from inside (the files, a write, the
//! mount table) and on the host (its cgroup files, its mounts).

#[path = "run/walk.rs"]
mod walk;

use std::path::{Path, PathBuf};

use box_cgroup::{Controller, Layout, Location};
use box_tests::{mounts, ok, stderr};
use walk::{unique, Walk};

const LIMIT: &str = "67108864";

/// Where the memory limit is: inside the container (below `/sys/fs/cgroup`) and on the host
/// for the container `name` — v1's `memory/memory.limit_in_bytes` on this project's hybrid
/// machine, v2's `memory.max` on a pure cgroup2 host.
fn memory_limit(name: &str) -> (String, PathBuf) {
    let layout = Layout::detect().unwrap();
    match layout.location(Controller::Memory) {
        Some(Location::V1(root)) => {
            let dir = root.file_name().unwrap().to_str().unwrap();
            let inside = format!("/sys/fs/cgroup/{dir}/memory.limit_in_bytes");
            (
                inside,
                root.join("box").join(name).join("memory.limit_in_bytes"),
            )
        }
        Some(Location::V2(root)) => {
            let inside = match layout.v1_mounts().is_empty() {
                true => "/sys/fs/cgroup/memory.max".to_string(),
                false => format!(
                    "/sys/fs/cgroup/{}/memory.max",
                    root.file_name().unwrap().to_str().unwrap()
                ),
            };
            (inside, root.join("box").join(name).join("memory.max"))
        }
        None => panic!("this host has no memory controller"),
    }
}

/// The host's cgroup mounts, as mountinfo lists them.
fn host_cgroup_mounts() -> Vec<String> {
    mounts()
        .into_iter()
        .filter(|m| m.mount_point.starts_with("/sys/fs/cgroup"))
        .map(|m| format!("{m:?}"))
        .collect()
}

#[test]
fn the_container_reads_its_own_memory_limit_read_only_and_no_other_cgroup() {
    let before = host_cgroup_mounts();
    let mut w = Walk::new();
    let (name, other) = (unique("cgfs"), unique("cgfs-other"));
    w.detached(&other, &[], &["sleep", "1000"]);
    w.detached(&name, &["--memory", "64m"], &["sleep", "1000"]);
    let (inside, host_file) = memory_limit(&name);
    let exec = |script: &str| w.state.run(&["exec", &name, "sh", "-c", script]);

    assert_eq!(ok(&exec(&format!("cat {inside}"))).trim(), LIMIT);
    // Each hierarchy's root is the container's own cgroup: no directory below it, so no
    // other container's cgroup, no box/, nothing of the host's (such as /process_api).
    let dirs = ok(&exec("find /sys/fs/cgroup -mindepth 2 -type d"));
    assert_eq!(dirs, "", "cgroups beyond the container's own");
    let all = ok(&exec("find /sys/fs/cgroup"));
    assert!(!all.contains(&other) && !all.contains("process_api") && !all.contains("box"));
    assert_eq!(
        ok(&exec("cat /proc/self/cgroup"))
            .lines()
            .filter(|l| !l.ends_with(":/"))
            .count(),
        0,
        "its cgroup namespace's root is its own cgroup"
    );

    // Writes fail with EROFS, even as root: to a limit, a new cgroup, the tmpfs itself.
    for attack in [
        format!("echo 1g > {inside}"),
        format!(
            "mkdir {}/escape",
            Path::new(&inside).parent().unwrap().display()
        ),
        "mkdir /sys/fs/cgroup/evil".to_string(),
    ] {
        let out = exec(&attack);
        assert!(!out.status.success(), "{attack} succeeded");
        assert!(
            stderr(&out).contains("Read-only file system"),
            "{attack}: {}",
            stderr(&out)
        );
    }
    // Nor can it make them writable: no CAP_SYS_ADMIN.
    assert!(!exec("mount -o remount,rw /sys/fs/cgroup").status.success());
    assert_eq!(std::fs::read_to_string(&host_file).unwrap().trim(), LIMIT);
    let escape = host_file.parent().unwrap().join("escape");
    assert!(!escape.exists(), "{} made on the host", escape.display());

    // The mount table inside: every mount at /sys/fs/cgroup read-only, the memory one a
    // cgroup filesystem (v1 `cgroup` with the controller, or cgroup2).
    let table = ok(&exec("grep ' /sys/fs/cgroup' /proc/self/mountinfo"));
    assert!(!table.is_empty());
    for line in table.lines() {
        let options = line.split(' ').nth(5).unwrap();
        assert!(
            options.split(',').any(|o| o == "ro"),
            "not read-only: {line}"
        );
    }
    let memory_mount = Path::new(&inside).parent().unwrap().display().to_string();
    assert!(
        table.lines().any(|l| {
            l.split(' ').nth(4) == Some(memory_mount.as_str())
                && (l.contains(" - cgroup cgroup rw,memory") || l.contains(" - cgroup2 "))
        }),
        "{table}"
    );

    ok(&w.state.run(&["rm", "-f", &name, &other]));
    assert!(!host_file.exists(), "its cgroup outlived it");
    assert_eq!(
        host_cgroup_mounts(),
        before,
        "the host's cgroup mounts changed"
    );
}

/// `box run` in the foreground reads it too (the walkthrough's `--memory` line).
#[test]
fn box_run_memory_shows_in_the_containers_sys_fs_cgroup() {
    let w = Walk::new();
    let name = unique("cgfs-run");
    let (inside, host_file) = memory_limit(&name);
    let out = w.run(&["--name", &name, "--memory", "64m"], &["cat", &inside]);
    assert_eq!(ok(&out).trim(), LIMIT);
    assert!(!host_file.exists());
}

/// On this project's hybrid machine: runc's layout, a read-only tmpfs with each controller's
/// hierarchy at its host name and the controller-less cgroup2 at `unified`.
#[test]
fn a_v1_host_gets_a_tmpfs_with_each_hierarchy() {
    let layout = Layout::detect().unwrap();
    if layout.v1_mounts().is_empty() {
        // A pure v2 host mounts cgroup2 itself: checked by the test above.
        assert!(
            ok(&Walk::new().run(&[], &["stat", "-f", "-c", "%T", "/sys/fs/cgroup"]))
                .contains("cgroup2"),
        );
        return;
    }
    let w = Walk::new();
    let listed = ok(&w.run(&[], &["ls", "/sys/fs/cgroup"]));
    let mut want: Vec<String> = layout
        .v1_hierarchies()
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    want.extend(
        layout
            .v2_root()
            .map(|p| p.file_name().unwrap().to_string_lossy().into()),
    );
    for name in &want {
        assert!(
            listed.lines().any(|l| l == name),
            "{name} missing: {listed}"
        );
    }
    let fs = ok(&w.run(&[], &["stat", "-f", "-c", "%T", "/sys/fs/cgroup"]));
    assert_eq!(fs.trim(), "tmpfs");
}

/// `[namespaces] cgroup = "host"` (`--cgroupns host`): its cgroup namespace is the host's, so
/// a cgroup mount would show the host's hierarchies; box mounts nothing there.
#[test]
fn a_host_cgroup_namespace_gets_no_cgroup_mount() {
    let w = Walk::new();
    let out = w.run(
        &["--cgroupns", "host"],
        &[
            "sh",
            "-c",
            "ls /sys/fs/cgroup | wc -l; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo || true",
        ],
    );
    assert_eq!(ok(&out), "0\n0\n");
}
