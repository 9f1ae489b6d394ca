//! On a hybrid host box makes a container's v1 cgroups after "go", while the child builds its
//! root, and the child joins them before the command runs: at its end in the host's cgroup
//! namespace (`[namespaces] cgroup = "host"`), in its root filesystem step, before the root's
//! `/sys/fs/cgroup`, with a namespace of its own (the default). Either way the command is in
//! its cgroup on every hierarchy, its limits hold, and a v1 cgroup box cannot make stops the
//! start before the command runs.

use std::os::fd::AsRawFd;

use super::support::{assert_oom_killed, case, HOLDS_64M};
use box_cgroup::Layout;
use box_tests::{ok, stderr};

/// `case` with the host's cgroup namespace.
fn in_host_cgroupns(prefix: &str, command: &str, resources: &str) -> box_tests::Case {
    in_cgroupns("host", prefix, command, resources)
}

/// `case` with `[namespaces] cgroup = mode`.
fn in_cgroupns(mode: &str, prefix: &str, command: &str, resources: &str) -> box_tests::Case {
    let case = case(prefix, command, resources);
    let mut text = std::fs::read_to_string(case.file()).expect("read box.toml");
    text.push_str(&format!("[namespaces]\ncgroup = \"{mode}\"\n"));
    std::fs::write(case.file(), text).expect("write box.toml");
    case
}

#[test]
fn with_its_own_cgroup_namespace_it_sees_its_cgroups_as_the_root_and_its_limits_there() {
    let case = in_cgroupns(
        "new",
        "cg-ownns",
        "cat /proc/self/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
         /sys/fs/cgroup/pids/pids.max",
        "memory = \"64m\"\npids = 20",
    );
    let out = ok(&case.up());
    let layout = Layout::detect().expect("detect this host's cgroup hierarchies");
    let hierarchies = layout.v1_hierarchies().len() + usize::from(layout.v2_root().is_some());
    let lines: Vec<&str> = out.lines().collect();
    let (cgroups, limits) = lines.split_at(lines.len() - 2);
    let own: Vec<&&str> = cgroups.iter().filter(|l| !l.contains(":name=")).collect();
    assert_eq!(own.len(), hierarchies, "{out}");
    assert!(
        own.iter().all(|l| l.ends_with(":/")),
        "not the namespace's root:\n{out}"
    );
    assert_eq!(limits, ["67108864", "20"], "{out}");
    case.assert_nothing_left();
}

#[test]
fn the_command_runs_in_its_cgroup_on_every_hierarchy_as_the_kernel_reports_it() {
    // Not root: the join comes after the switch to the container's user.
    let case = in_host_cgroupns(
        "cg-hostns",
        "cat /proc/self/cgroup",
        "memory = \"64m\"\npids = 20",
    );
    let mut text = std::fs::read_to_string(case.file()).unwrap();
    text = text.replacen('\n', "\nuser = \"1000:1000\"\n", 1);
    std::fs::write(case.file(), text).unwrap();
    let out = ok(&case.up());
    let want = format!("/box/{}", case.name);
    let layout = Layout::detect().expect("detect this host's cgroup hierarchies");
    let mut hierarchies = layout.v1_hierarchies().len();
    hierarchies += usize::from(layout.v2_root().is_some());
    // Named hierarchies (name=systemd) hold no cgroup of the container.
    let lines: Vec<&str> = out.lines().filter(|l| !l.contains(":name=")).collect();
    assert_eq!(lines.len(), hierarchies, "{out}");
    for line in lines {
        assert!(line.ends_with(&want), "{line:?} is not {want}:\n{out}");
    }
    case.assert_nothing_left();
}

#[test]
fn its_memory_limit_is_in_force_when_the_command_runs() {
    let case = in_host_cgroupns(
        "cg-hostns-oom",
        HOLDS_64M,
        "memory = \"32m\"\nmemory_swap = \"32m\"",
    );
    assert_oom_killed(&case.up());
    case.assert_nothing_left();
}

#[test]
fn a_v1_cgroup_box_cannot_make_stops_the_start_before_the_command_runs() {
    for mode in ["host", "new"] {
        a_taken_v1_cgroup_stops_the_start(mode);
    }
}

fn a_taken_v1_cgroup_stops_the_start(mode: &str) {
    let case = in_cgroupns(mode, "cg-taken", "touch /data/ran", "pids = 20");
    let layout = Layout::detect().expect("detect this host's cgroup hierarchies");
    // Another live owner's directory of the same name on the last v1 hierarchy: locked, as
    // box's own are, so it is no orphan to remove.
    let (mount, _) = *layout.v1_hierarchies().last().expect("a v1 hierarchy");
    let taken = mount.join("box").join(&case.name);
    std::fs::create_dir_all(&taken).expect("make the taken directory");
    let held = std::fs::File::open(&taken).expect("open the taken directory");
    // SAFETY: flock on an fd this test owns.
    let locked = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    let out = case.up();
    drop(held);
    std::fs::remove_dir(&taken).expect("remove the taken directory");
    assert_eq!(locked, 0, "lock the taken directory");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&*taken.to_string_lossy()) && stderr(&out).contains("exists"),
        "stderr: {}",
        stderr(&out)
    );
    assert!(!case.path("data/ran").exists(), "the command ran ({mode})");
    case.assert_nothing_left();
}

/// With a namespace of its own, its `/sys/fs/cgroup` shows each host hierarchy (the same
/// superblock) rooted at its own cgroup, whose files it reads; box binds those directories
/// while the child enters its root, after every other mount of it, so the mount table is the
/// same at every start (mountinfo lists mounts in the order they were made).
#[test]
fn its_sys_fs_cgroup_shows_the_host_hierarchies_at_its_cgroup_in_the_same_table_every_start() {
    use std::os::unix::fs::MetadataExt;
    let layout = Layout::detect().expect("detect this host's cgroup hierarchies");
    let host: Vec<(String, u64)> = layout
        .v1_hierarchies()
        .into_iter()
        .map(|(mount, _)| mount.to_path_buf())
        .chain(layout.v2_root().map(|p| p.to_path_buf()))
        .map(|mount| {
            let name = mount.file_name().unwrap().to_string_lossy().into_owned();
            let dev = std::fs::metadata(&mount).unwrap().dev();
            (format!("/sys/fs/cgroup/{name}"), dev)
        })
        .collect();
    let points: Vec<&str> = host.iter().map(|(p, _)| p.as_str()).collect();
    let script = format!(
        "stat -c %n:%d {}; cat /sys/fs/cgroup/pids/pids.max; cut -d\" \" -f5 /proc/self/mountinfo",
        points.join(" ")
    );
    let case = in_cgroupns("new", "cg-binds", &script, "pids = 20");
    let mut tables = Vec::new();
    for _ in 0..4 {
        let out = ok(&case.up());
        let lines: Vec<&str> = out.lines().collect();
        let (devices, rest) = lines.split_at(host.len());
        for ((point, dev), line) in host.iter().zip(devices) {
            assert_eq!(
                *line,
                format!("{point}:{dev}"),
                "not the host's hierarchy:\n{out}"
            );
        }
        assert_eq!(rest[0], "20", "{out}");
        tables.push(rest[1..].join("\n"));
    }
    assert!(tables.windows(2).all(|w| w[0] == w[1]), "{tables:#?}");
    let table: Vec<&str> = tables[0].lines().collect();
    let at = |point: &str| table.iter().position(|l| *l == point);
    let view = at("/sys/fs/cgroup").expect("the view in the table");
    assert!(
        points.iter().all(|p| at(p).is_some_and(|i| i > view)),
        "its hierarchies before the view itself:\n{}",
        tables[0]
    );
    case.assert_nothing_left();
}
