//! The device policy, attacked from inside default containers: root there has CAP_MKNOD, so
//! it can make a node for any device; the cgroup policy (v1 devices controller and the
//! cgroup2 BPF program, both on a hybrid host) must refuse to open what is not allowed.
//! Each test checks the host afterwards: the device's content, the kernel log.
//! `box-devprobe` (built with these tests) makes the calls and prints their errnos.

mod host;

use std::collections::HashMap;

use box_tests::{ok, Case, StateRoot};
use host::{cgroup_dirs, device_programs, host_disk, kernel_log_contains, Loop};

const EPERM: &str = "1";
const ENOSPC: &str = "28";

/// A case running the probe with `ops` (each an operation and its arguments, split at
/// spaces), `top` (top-level keys) before them.
fn probe_case(prefix: &str, top: &str, ops: &[&str]) -> Case {
    let mut command = vec!["/probe"];
    command.extend(ops.iter().flat_map(|op| op.split(' ')));
    let body = format!(
        "command = {command:?}\n{top}\n[[mounts]]\ntype = \"bind\"\nsource = {:?}\ntarget = \"/probe\"\nreadonly = true\n",
        env!("CARGO_BIN_EXE_box-devprobe")
    );
    Case::new(prefix, &body)
}

/// `OP PATH` → the rest of its line (the errno, then any data read).
fn answers(out: &str) -> HashMap<String, String> {
    out.lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run(case: &Case, args: &[&str]) -> HashMap<String, String> {
    let out = ok(&case.command(args).output().expect("run box"));
    case.assert_nothing_left();
    answers(&out)
}

fn get<'a>(a: &'a HashMap<String, String>, key: &str) -> &'a str {
    a.get(key)
        .map_or_else(|| panic!("no {key:?} in {a:?}"), |v| v.as_str())
}

#[test]
fn a_host_block_device_made_with_mknod_cannot_be_read_or_written() {
    let disk = Loop::new("box-devices-block");
    let (major, minor) = disk.numbers();
    let (root_major, root_minor) = host_disk();
    let (major, minor) = (major.to_string(), minor.to_string());
    let (root_major, root_minor) = (root_major.to_string(), root_minor.to_string());
    let ops = [
        &format!("mknod /dev/hostdisk b {major} {minor}"),
        "read /dev/hostdisk 16",
        "open /dev/hostdisk w",
        "write /dev/hostdisk OWNED-FROM-A-CONTAINER",
        "open /dev/hostdisk rw",
        &format!("mknod /dev/rootdisk b {root_major} {root_minor}"),
        "read /dev/rootdisk 512",
    ];
    let a = run(&probe_case("dev-block", "", &ops), &["up"]);
    // mknod is allowed (Docker's `b *:* m`): the nodes exist, and opening them is refused.
    assert_eq!(get(&a, "mknod /dev/hostdisk"), "0", "{a:?}");
    for key in [
        "read /dev/hostdisk",
        "open-w /dev/hostdisk",
        "write /dev/hostdisk",
    ] {
        assert_eq!(get(&a, key), EPERM, "{key}: {a:?}");
    }
    assert_eq!(get(&a, "open-rw /dev/hostdisk"), EPERM, "{a:?}");
    assert_eq!(get(&a, "mknod /dev/rootdisk"), "0", "{a:?}");
    assert_eq!(get(&a, "read /dev/rootdisk"), EPERM, "{a:?}");
    disk.assert_unchanged();
}

#[test]
fn kmsg_made_with_mknod_cannot_write_the_hosts_kernel_log() {
    let marker = format!("box-devices-kmsg-{}", std::process::id());
    let ops = [
        "mknod /dev/km c 1 11",
        &format!("write /dev/km {marker}"),
        "read /dev/km 64",
    ];
    let a = run(&probe_case("dev-kmsg", "", &ops), &["up"]);
    assert_eq!(get(&a, "mknod /dev/km"), "0", "{a:?}");
    assert_eq!(get(&a, "write /dev/km"), EPERM, "{a:?}");
    assert_eq!(get(&a, "read /dev/km"), EPERM, "{a:?}");
    assert!(
        !kernel_log_contains(&marker),
        "the container wrote the host's kernel log"
    );
}

#[test]
fn the_standard_devices_still_work() {
    let ops = [
        "open /dev/null rw",
        "read /dev/zero 4",
        "write /dev/full x",
        "read /dev/urandom 1",
        "read /dev/random 1",
        "open /dev/ptmx rw",
        // A node of an allowed device, made in the container, works like the original
        // (and shows /dev is no `nodev` mount: the refusals above are the policy's).
        "mknod /dev/mynull c 1 3",
        "write /dev/mynull x",
    ];
    let a = run(&probe_case("dev-std", "", &ops), &["up"]);
    assert_eq!(get(&a, "open-rw /dev/null"), "0", "{a:?}");
    assert_eq!(get(&a, "read /dev/zero"), "0 \0\0\0\0", "{a:?}");
    // ENOSPC: /dev/full was opened; only the write failed, as /dev/full does.
    assert_eq!(get(&a, "write /dev/full"), ENOSPC, "{a:?}");
    assert!(get(&a, "read /dev/urandom").starts_with("0 "), "{a:?}");
    assert!(get(&a, "read /dev/random").starts_with("0 "), "{a:?}");
    assert_eq!(get(&a, "open-rw /dev/ptmx"), "0", "{a:?}");
    assert_eq!(get(&a, "mknod /dev/mynull"), "0", "{a:?}");
    assert_eq!(get(&a, "write /dev/mynull"), "0", "{a:?}");
}

#[test]
fn the_terminal_devices_work_in_a_tty_container() {
    let ops = [
        "open /dev/tty rw",
        "open /dev/console rw",
        "open /dev/pts/0 rw",
        "open /dev/pts/ptmx rw",
    ];
    let a = run(&probe_case("dev-tty", "", &ops), &["up", "-t"]);
    for key in [
        "open-rw /dev/tty",
        "open-rw /dev/console",
        "open-rw /dev/pts/0",
        "open-rw /dev/pts/ptmx",
    ] {
        assert_eq!(get(&a, key), "0", "{key}: {a:?}");
    }
}

#[test]
fn devices_in_box_toml_are_present_with_their_permissions() {
    let readable = Loop::new("box-devices-ro");
    let writable = Loop::new("box-devices-rw");
    let top = format!(
        "devices = [\"{}:/dev/xvda:r\", \"{}:/dev/disks/xvdb\"]",
        readable.dev.display(),
        writable.dev.display()
    );
    let ops = [
        "read /dev/xvda 14",
        "write /dev/xvda NOPE",
        "read /dev/disks/xvdb 14",
        "write /dev/disks/xvdb WRITTEN",
    ];
    let a = run(&probe_case("dev-listed", &top, &ops), &["up"]);
    assert_eq!(get(&a, "read /dev/xvda"), "0 box-devices-ro", "{a:?}");
    assert_eq!(get(&a, "write /dev/xvda"), EPERM, "only r: {a:?}");
    assert_eq!(get(&a, "read /dev/disks/xvdb"), "0 box-devices-rw", "{a:?}");
    assert_eq!(get(&a, "write /dev/disks/xvdb"), "0", "{a:?}");
    readable.assert_unchanged();
    // The allowed write reached the host's device, and nothing else changed.
    let mut want = writable.content.clone();
    want[..7].copy_from_slice(b"WRITTEN");
    assert!(writable.read() == want, "the write did not land as written");
}

#[test]
fn the_running_containers_cgroup_holds_exactly_the_policy() {
    let disk = Loop::new("box-devices-list");
    let (major, minor) = disk.numbers();
    let top = format!("devices = [\"{}:/dev/xvda:rw\"]", disk.dev.display());
    let case = Case::new(
        "dev-list",
        &format!("command = [\"/bin/sleep\", \"1000\"]\n{top}\n"),
    );
    let mut root = StateRoot::new();
    let name = root.up(&case);
    let (devices, unified) = cgroup_dirs(&name);
    assert!(
        devices.is_some() || unified.is_some(),
        "no cgroup to look at"
    );
    if let Some(dir) = devices {
        let list = std::fs::read_to_string(dir.join("devices.list")).expect("devices.list");
        let want = format!(
            "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n\
             c 5:0 rwm\nc 5:1 rwm\nc 5:2 rwm\nc 136:* rwm\nb {major}:{minor} rw\n"
        );
        assert_eq!(list, want);
    }
    if let Some(dir) = unified {
        assert_eq!(
            device_programs(&dir),
            1,
            "one BPF device program on {}",
            dir.display()
        );
    }
    let json = root.field(&name, "{{json .Cgroup.Limits.devices}}");
    if cgroup_dirs(&name).0.is_some() {
        assert!(
            json.contains(&format!("\"b {major}:{minor} rw\"")),
            "{json}"
        );
    }
    drop(root);
    disk.assert_unchanged();
}
