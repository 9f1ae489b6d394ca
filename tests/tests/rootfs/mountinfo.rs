//! The container's mount table as the kernel reports it (`/proc/self/mountinfo` inside), for
//! the root kinds box builds: every mount, its place, its per-mount and filesystem options and
//! their order. A snapshot, so that a change to how the root is built that changes what the
//! container sees shows up here.

use std::path::Path;

use box_tests::{busybox_rootfs, ok, Case};

/// Filesystems box creates itself; any other line is a bind of the host's (whose options are
/// the host's own mount's, so only read-only or not is kept).
const BOX_MADE: &[&str] = &["proc", "sysfs", "tmpfs", "devpts", "mqueue"];

/// The host's directories the host root shows; which exist, and how, is the host's layout.
const HOST_SHARED: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// Docker's masked and read-only paths: which of them a kernel has varies, so their lines are
/// checked against the host's `/proc` and `/sys` and folded into one line per shape.
const MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];
const READ_ONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// `mountinfo` without what differs from one start or host to the next: mount ids, device
/// numbers, the case's directory, peer group numbers, the host filesystems' options, which of
/// Docker's masked and read-only paths this kernel has, the host's cgroup hierarchies.
fn normalize(text: &str, case_dir: &str, host_root: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut points = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let (left, right) = line.split_once(" - ").expect("a mountinfo line");
        let mut left = left.split_whitespace().skip(3);
        let mut root = left.next().expect("root").replace(case_dir, "[CASE]");
        let mut point = left.next().expect("mount point").to_string();
        let options = left.next().expect("options");
        let optional: Vec<&str> = left.map(|f| f.split(':').next().unwrap_or(f)).collect();
        points.push(point.clone());
        let shared = |h: &&str| point == *h || point.starts_with(&format!("{h}/"));
        if host_root && HOST_SHARED.iter().any(shared) {
            continue;
        }
        if MASKED.contains(&point.as_str()) {
            point = "[MASKED]".into();
        } else if READ_ONLY.contains(&point.as_str()) {
            (root, point) = ("[ITSELF]".into(), "[READ-ONLY]".into());
        }
        let mut right = right.split_whitespace();
        let fstype = right.next().expect("fstype");
        let optional = optional.join(" ");
        // /sys/fs/cgroup is cgroup2 on a pure v2 host, a tmpfs of hierarchies on v1 or hybrid
        // ones (tests/tests/run_cgroupfs.rs): its type is redacted and the hierarchies below,
        // which differ per host, are checked here rather than snapshotted.
        if point.starts_with("/sys/fs/cgroup/") {
            let ro = options.split(',').next() == Some("ro");
            assert!(ro && fstype.starts_with("cgroup"), "{line}");
            continue;
        }
        if point == "/sys/fs/cgroup" {
            assert!(matches!(fstype, "tmpfs" | "cgroup2"), "{line}");
            out.push(format!(
                "{root} {point} {options} [{optional}] - [CGROUPFS]"
            ));
            continue;
        }
        let line = if BOX_MADE.contains(&fstype) {
            let source = right.next().expect("source");
            let sb = right.next().expect("super options");
            format!("{root} {point} {options} [{optional}] - {fstype} {source} {sb}")
        } else {
            let ro = options.split(',').next().expect("ro or rw");
            format!("{root} {point} {ro} [{optional}] - [HOST]")
        };
        if !out.contains(&line) {
            out.push(line);
        }
    }
    for p in MASKED.iter().chain(READ_ONLY) {
        assert_eq!(
            points.iter().any(|m| m == p),
            Path::new(p).exists(),
            "{p}: mounted inside iff the host has it"
        );
    }
    out.join("\n")
}

fn mountinfo(prefix: &str, body: &str, dir_root: bool, host_root: bool) -> String {
    let case = Case::new(prefix, "");
    if dir_root {
        busybox_rootfs(case.dir.path());
    }
    std::fs::create_dir(case.path("data")).expect("mkdir data");
    let text = format!(
        "name = \"{}\"\ncommand = [\"/bin/cat\", \"/proc/self/mountinfo\"]\n{body}",
        case.name
    );
    std::fs::write(case.file(), text).expect("write box.toml");
    let out = ok(&case.up());
    case.assert_nothing_left();
    let dir = case.dir.path().to_str().expect("utf-8 path").to_string();
    normalize(&out, &dir, host_root)
}

#[test]
fn mountinfo_of_the_host_root() {
    insta::assert_snapshot!(mountinfo("mi-host", "", false, true));
}

#[test]
fn mountinfo_of_a_directory_root_with_mounts_console_and_read_only_root() {
    let body = "rootfs = \"rootfs\"\ntty = true\n\
        [[mounts]]\ntype = \"bind\"\nsource = \"data\"\ntarget = \"/data\"\nreadonly = true\n\
        [[mounts]]\ntype = \"tmpfs\"\ntarget = \"/scratch\"\nsize = \"1m\"\nmode = \"700\"\n\
        [[mounts]]\ntype = \"bind\"\nsource = \"data\"\ntarget = \"/rw\"\n\
        [[mounts]]\ntype = \"tmpfs\"\ntarget = \"/dev/extra\"\n\
        [security]\nreadonly_rootfs = true\n";
    insta::assert_snapshot!(mountinfo("mi-dir", body, true, false));
}

#[test]
fn mountinfo_of_a_rootless_container() {
    // Root of a new user namespace: the host's device nodes are bound, devpts's gid is mapped.
    let body = "rootfs = \"rootfs\"\n[namespaces]\nuser = \"new\"\n";
    insta::assert_snapshot!(mountinfo("mi-userns", body, true, false));
}
