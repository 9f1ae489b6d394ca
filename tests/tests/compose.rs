//! Several containers in one box.toml (`[containers.NAME]`), each test with its own `--root`:
//! the start order that joins impose, `box down`, errors before anything starts, the rollback
//! of a failed start, and the foreground mode's interleaved output and Ctrl-C. Nothing of box
//! may remain.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use box_tests::StateRoot;
use box_tests::{busybox_rootfs, cgroup_dirs, ok, require_root, stderr, stdout, unique_name};

const SLEEP: &str = r#"command = ["/bin/sleep", "1000"]"#;

/// A box.toml of several containers in a temporary directory of its own.
struct File {
    dir: tempfile::TempDir,
}

impl File {
    fn new(text: &str) -> File {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("boxcompose-")
            .tempdir()
            .expect("create a temporary directory");
        std::fs::write(dir.path().join("box.toml"), text).expect("write box.toml");
        File { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("box.toml")
    }

    fn arg(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }
}

/// `box ARGS FILE` under `root`.
fn run(root: &StateRoot, args: &[&str], file: &File) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let path = file.arg();
    all.push(&path);
    root.run(&all)
}

fn gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim().starts_with('Z'))
        })
}

fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `box ns` verdict of one kind.
fn verdict(table: &str, kind: &str) -> String {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} row in\n{table}"));
    line.split_whitespace()
        .nth(3)
        .unwrap_or_default()
        .to_string()
}

/// Nothing of these containers on the host: no state, no cgroup.
fn assert_nothing_left(root: &StateRoot, names: &[&str]) {
    let left: Vec<_> = std::fs::read_dir(root.dir.path())
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state left behind: {left:?}");
    for name in names {
        for dir in cgroup_dirs(name) {
            assert!(!dir.exists(), "cgroup {} left behind", dir.display());
        }
    }
}

#[test]
fn a_joiner_written_first_starts_after_its_target_and_down_removes_everything() {
    let mut root = StateRoot::new();
    let (c1, c2) = (unique_name("c1"), unique_name("c2"));
    // c2 comes first in the file, but joins c1's network: c1 must start first.
    let file = File::new(&format!(
        "[containers.{c2}]\n{SLEEP}\n[containers.{c2}.namespaces]\nnet = \"container:{c1}\"\n\n\
         [containers.{c1}]\n{SLEEP}\n"
    ));
    let up = run(&root, &["up", "-d"], &file);
    root.names.extend([c1.clone(), c2.clone()]);
    assert_eq!(ok(&up), format!("{c1}\n{c2}\n"), "names in start order");

    let table = ok(&root.run(&["ns", &c1, &c2]));
    assert_eq!(verdict(&table, "net"), "shared", "{table}");
    for kind in ["pid", "uts", "ipc", "mnt"] {
        assert_eq!(verdict(&table, kind), "isolated", "{kind}:\n{table}");
    }
    let pids: Vec<i32> = [&c1, &c2]
        .iter()
        .flat_map(|n| {
            [
                root.pid(n),
                root.field(n, "{{.State.MonitorPid}}").parse().unwrap(),
            ]
        })
        .collect();

    let down = run(&root, &["down", "-t", "1"], &file);
    assert_eq!(ok(&down), format!("{c2}\n{c1}\n"), "reverse start order");
    for pid in pids {
        assert!(gone(pid), "process {pid} left behind");
    }
    assert_nothing_left(&root, &[&c1, &c2]);
    assert_eq!(
        ok(&root.run(&["ps", "-a"])).lines().count(),
        1,
        "only ps's header"
    );
}

#[test]
fn down_skips_containers_that_are_not_there() {
    let mut root = StateRoot::new();
    let (a, b) = (unique_name("down-a"), unique_name("down-b"));
    let file = File::new(&format!(
        "[containers.{a}]\n{SLEEP}\n[containers.{b}]\n{SLEEP}\n"
    ));
    let up = run(&root, &["up", "-d"], &file);
    root.names.extend([a.clone(), b.clone()]);
    ok(&up);
    ok(&root.run(&["rm", "-f", &a]));
    assert_eq!(
        ok(&run(&root, &["down", "-t", "0"], &file)),
        format!("{b}\n")
    );
    let again = run(&root, &["down"], &file);
    assert_eq!(
        (ok(&again).as_str(), stderr(&again).as_str()),
        ("", ""),
        "nothing to do is no error"
    );
    assert_nothing_left(&root, &[&a, &b]);
}

#[test]
fn a_cycle_is_an_error_before_anything_starts() {
    let root = StateRoot::new();
    let (c0, c1, c2) = (
        unique_name("cyc0"),
        unique_name("cyc1"),
        unique_name("cyc2"),
    );
    let file = File::new(&format!(
        "[containers.{c0}]\n{SLEEP}\n\
         [containers.{c1}]\n{SLEEP}\nnamespaces.net = \"container:{c2}\"\n\
         [containers.{c2}]\n{SLEEP}\nnamespaces.ipc = \"container:{c1}\"\n"
    ));
    let out = run(&root, &["up", "-d"], &file);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(":8:12: containers.{c2}.namespaces.ipc: \"container:{c1}\" closes a cycle ({c1} → {c2} → {c1})")),
        "{err}"
    );
    assert_nothing_left(&root, &[&c0, &c1, &c2]);
}

#[test]
fn a_missing_target_is_an_error_before_anything_starts() {
    let root = StateRoot::new();
    let (c0, c1, nobody) = (
        unique_name("miss0"),
        unique_name("miss1"),
        unique_name("nobody"),
    );
    let file = File::new(&format!(
        "[containers.{c0}]\n{SLEEP}\n[containers.{c1}]\n{SLEEP}\n\
         [containers.{c1}.namespaces]\npid = \"container:{nobody}\"\n"
    ));
    let out = run(&root, &["up", "-d"], &file);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            ":6:1: containers.{c1}.namespaces.pid: no container named \"{nobody}\" in this file, and no running container of that name"
        )),
        "{err}"
    );
    assert_nothing_left(&root, &[&c0, &c1]);
}

#[test]
fn errors_name_the_containers_key() {
    let root = StateRoot::new();
    let (db, web) = (unique_name("db"), unique_name("web"));
    let file = File::new(&format!(
        "[containers.{db}]\n{SLEEP}\n[containers.{web}]\n{SLEEP}\n\
         [containers.{web}.resources]\nmemory = \"10x\"\n"
    ));
    let out = run(&root, &["up"], &file);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "box.toml:6:1: containers.{web}.resources.memory: invalid size \"10x\""
        )),
        "{err}"
    );
    assert_nothing_left(&root, &[&db, &web]);
}

#[test]
fn a_failed_start_removes_the_containers_started_before_it() {
    let mut root = StateRoot::new();
    let (good, bad) = (unique_name("good"), unique_name("bad"));
    let file = File::new(&format!(
        "[containers.{bad}]\ncommand = [\"/no/such/program\"]\nnamespaces.net = \"container:{good}\"\n\
         [containers.{good}]\n{SLEEP}\n"
    ));
    let out = run(&root, &["up", "-d"], &file);
    root.names.extend([good.clone(), bad.clone()]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no container is left to name");
    let err = stderr(&out);
    assert!(err.contains(&format!("box: container {bad}: ")), "{err}");
    assert!(err.contains(&format!("box: removed {good}")), "{err}");
    assert_nothing_left(&root, &[&good, &bad]);
}

#[test]
fn foreground_interleaves_prefixed_output_and_exits_with_the_first_containers_code() {
    let root = StateRoot::new();
    let (web, db) = (unique_name("web"), unique_name("db"));
    let file = File::new(&format!(
        "[containers.{web}]\n\
         command = [\"/bin/sh\", \"-c\", \"echo one; sleep 0.6; printf three; exit 3\"]\n\
         [containers.{db}]\n\
         rootfs = \"rootfs\"\n\
         command = [\"/bin/sh\", \"-c\", \"sleep 0.3; cat /etc/marker\"]\n"
    ));
    // Relative to the box.toml, as in the single-container form.
    busybox_rootfs(file.dir.path());
    let out = run(&root, &["up"], &file);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let width = web.len().max(db.len());
    let label = |n: &str| format!("{n:<width$} | ");
    // Each container's lines in its own order, every line whole behind its label; how the two
    // interleave depends on when each container got to run.
    let text = stdout(&out);
    let of = |n: &str| -> Vec<&str> {
        let label = label(n);
        text.lines()
            .filter_map(|l| l.strip_prefix(label.as_str()))
            .collect()
    };
    assert_eq!(of(&web), ["one", "three"], "{text}");
    assert_eq!(of(&db), ["inside the busybox root"], "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    let err = stderr(&out);
    assert!(err.contains(&format!("{web} exited with code 3")), "{err}");
    assert!(err.contains(&format!("{db} exited with code 0")), "{err}");
    assert_nothing_left(&root, &[&web, &db]);
}

#[test]
fn sigint_to_the_foreground_stops_every_container_and_removes_them() {
    let mut root = StateRoot::new();
    let (a, b) = (unique_name("int-a"), unique_name("int-b"));
    let trap = |n: &str| {
        format!(
            "command = [\"/bin/sh\", \"-c\", \"trap 'echo bye {n}; exit 7' TERM; echo up; while :; do sleep 0.1; done\"]"
        )
    };
    let file = File::new(&format!(
        "[containers.{a}]\n{}\n[containers.{b}]\n{}\nnamespaces.uts = \"container:{a}\"\n",
        trap(&a),
        trap(&b)
    ));
    let child = root
        .cmd(&["up", &file.arg()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn box up");
    root.names.extend([a.clone(), b.clone()]);
    wait_until("both containers run", Duration::from_secs(10), || {
        let ps = stdout(&root.run(&["ps"]));
        ps.contains(&a) && ps.contains(&b)
    });
    // Their shells must have set the trap before the signal comes.
    wait_until("both containers print", Duration::from_secs(10), || {
        [&a, &b]
            .iter()
            .all(|n| stdout(&root.run(&["logs", n])).contains("up"))
    });
    let start = Instant::now();
    nix_kill(child.id() as i32, libc::SIGINT);
    let out = child.wait_with_output().expect("wait for box up");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "SIGTERM, not the timeout's SIGKILL, ended them"
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let text = stdout(&out);
    for n in [&a, &b] {
        assert!(text.contains(&format!("bye {n}\n")), "{text}");
    }
    assert!(stderr(&out).contains("box: stopping"), "{}", stderr(&out));
    assert_nothing_left(&root, &[&a, &b]);
}

fn nix_kill(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) of the box process this test spawned.
    let ret = unsafe { libc::kill(pid, sig) };
    assert_eq!(ret, 0, "kill {pid}");
}
