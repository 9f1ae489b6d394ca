//! Detached containers and their lifecycle, each test with its own `--root`: the seed's
//! walkthrough (`up -d`, `inspect --format '{{.State.Pid}}'`, `box ns`), logs, stop, kill, rm,
//! wait, a killed monitor, and two `box up` racing for one name. Nothing of box may remain.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use box_tests::{cgroup_dirs, ns_id, ok, stderr, stdout, Case, StateRoot as Root};

const SLEEP: &str = r#"command = ["/bin/sleep", "1000"]"#;

fn gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim().starts_with('Z'))
        })
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `box ns` row of one kind: (inode a, inode b, verdict).
fn ns_row(table: &str, kind: &str) -> (u64, u64, String) {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} row in\n{table}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    (
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].to_string(),
    )
}

#[test]
fn the_seeds_walkthrough_two_containers_are_isolated_and_host_net_is_shared() {
    let mut root = Root::new();
    let (c1, c2) = (Case::new("c1", SLEEP), Case::new("c2", SLEEP));
    let hostnet = Case::new(
        "hostnet",
        &format!("{SLEEP}\n[namespaces]\nnet = \"host\"\n"),
    );
    let (c1, c2, c3) = (root.up(&c1), root.up(&c2), root.up(&hostnet));
    let (p1, p2, p3) = (root.pid(&c1), root.pid(&c2), root.pid(&c3));
    for pid in [p1, p2, p3] {
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} is a host process"
        );
    }
    let net = |pid: i32| ns_id(&format!("/proc/{pid}/ns/net"));
    assert_ne!(net(p1), net(p2), "two containers: two network namespaces");
    assert_eq!(
        net(p3),
        ns_id("/proc/self/ns/net"),
        "net = host shares the host's"
    );

    let table = ok(&root.run(&["ns", &c1, &c2]));
    for kind in ["cgroup", "ipc", "mnt", "net", "pid", "uts"] {
        let (a, b, verdict) = ns_row(&table, kind);
        assert_eq!(verdict, "isolated", "{kind}:\n{table}");
        assert_eq!(a, ns_id(&format!("/proc/{p1}/ns/{kind}")).1);
        assert_eq!(b, ns_id(&format!("/proc/{p2}/ns/{kind}")).1);
    }
    let with_host = ok(&root.run(&["ns", &c3]));
    assert_eq!(ns_row(&with_host, "net").2, "shared", "{with_host}");
    assert_eq!(ns_row(&with_host, "uts").2, "isolated", "{with_host}");
    assert_eq!(ok(&root.run(&["ns", &c3, "host"])), with_host);
    let json = root.field(&c3, "{{range .Namespaces}}{{.Kind}}={{.Shared}} {{end}}");
    assert!(
        json.contains("net=true") && json.contains("pid=false"),
        "{json}"
    );
}

#[test]
fn container_namespaces_resolve_through_the_state() {
    let mut root = Root::new();
    let c1 = root.up(&Case::new("join1", SLEEP));
    let joiner = Case::new(
        "join2",
        &format!("{SLEEP}\n[namespaces]\nnet = \"container:{c1}\"\n"),
    );
    let c2 = root.up(&joiner);
    let table = ok(&root.run(&["ns", &c1, &c2]));
    assert_eq!(ns_row(&table, "net").2, "shared", "{table}");
    assert_eq!(ns_row(&table, "uts").2, "isolated", "{table}");
}

#[test]
fn logs_return_what_the_container_printed_and_follow_follows() {
    let mut root = Root::new();
    let case = Case::new(
        "logs",
        r#"command = ["/bin/sh", "-c", "echo one; echo err >&2; sleep 1; echo two"]"#,
    );
    let name = root.up(&case);
    let follow = root.cmd(&["logs", "-f", &name]).output().expect("logs -f");
    assert_eq!(
        ok(&follow),
        "one\nerr\ntwo\n",
        "-f ends when the container does"
    );
    assert_eq!(ok(&root.run(&["logs", &name])), "one\nerr\ntwo\n");
    assert_eq!(ok(&root.run(&["logs", "--tail", "1", &name])), "two\n");
}

#[test]
fn stop_ends_a_process_that_ignores_sigterm_after_the_timeout() {
    let mut root = Root::new();
    let name = root.up(&Case::new("stop", SLEEP));
    let pid = root.pid(&name);
    let start = Instant::now();
    assert_eq!(
        ok(&root.run(&["stop", "-t", "1", &name])),
        format!("{name}\n")
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "PID 1 ignores SIGTERM: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "SIGKILL after the timeout: {took:?}"
    );
    assert!(gone(pid));
    assert_eq!(
        root.field(&name, "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    for dir in cgroup_dirs(&name) {
        assert!(!dir.exists(), "the monitor removed {}", dir.display());
    }
}

#[test]
fn stop_with_a_handler_ends_at_once() {
    let mut root = Root::new();
    let case = Case::new(
        "stopfast",
        r#"command = ["/bin/sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"]"#,
    );
    let name = root.up(&case);
    std::thread::sleep(Duration::from_millis(200)); // let the shell install its trap
    let start = Instant::now();
    ok(&root.run(&["stop", "-t", "5", &name]));
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(root.field(&name, "{{.State.ExitCode}}"), "7");
}

#[test]
fn rm_f_removes_a_running_container_and_rm_refuses_without_f() {
    let mut root = Root::new();
    let name = root.up(&Case::new("rmf", SLEEP));
    let pid = root.pid(&name);
    let out = root.run(&["rm", &name]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is running"), "{}", stderr(&out));
    assert_eq!(ok(&root.run(&["rm", "-f", &name])), format!("{name}\n"));
    assert!(gone(pid));
    assert_eq!(
        ok(&root.run(&["ps", "-a"])).lines().count(),
        1,
        "header only"
    );
}

#[test]
fn a_container_that_exits_is_reported_exited_with_its_code() {
    let mut root = Root::new();
    let name = root.up(&Case::new(
        "exit3",
        r#"command = ["/bin/sh", "-c", "exit 3"]"#,
    ));
    assert_eq!(ok(&root.run(&["wait", &name])), "3\n");
    assert_eq!(
        root.field(
            &name,
            "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}"
        ),
        "exited 3 0"
    );
    assert!(
        ok(&root.run(&["ps"])).lines().count() == 1,
        "ps lists running ones only"
    );
    let all = ok(&root.run(&["ps", "-a"]));
    assert!(all.contains("exited (3)"), "{all}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&root.run(&["ps", "-a", "--format", "json"]))).unwrap();
    assert_eq!(json[0]["Status"], "exited");
    assert_eq!(json[0]["ExitCode"], 3);
    assert_eq!(ok(&root.run(&["rm", &name])), format!("{name}\n"));
}

#[test]
fn two_concurrent_ups_of_one_name_one_wins_one_gets_a_clear_error() {
    let mut root = Root::new();
    let case = Case::new("race", SLEEP);
    let file = case.file();
    let spawn = || {
        root.cmd(&["up", "-d", file.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn box up")
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    root.names.push(case.name.clone());
    let won: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
    let lost: Vec<_> = outs.iter().filter(|o| !o.status.success()).collect();
    assert_eq!((won.len(), lost.len()), (1, 1), "{outs:?}");
    assert_eq!(stdout(won[0]), format!("{}\n", case.name));
    assert!(
        stderr(lost[0]).contains("already in use"),
        "{}",
        stderr(lost[0])
    );
    assert!(root.pid(&case.name) > 0);
}

#[test]
fn kill_9_of_the_monitor_is_reported_truthfully_and_rm_f_cleans() {
    let mut root = Root::new();
    let name = root.up(&Case::new("monkill", SLEEP));
    let pid = root.pid(&name);
    let monitor: i32 = root.field(&name, "{{.State.MonitorPid}}").parse().unwrap();
    // SAFETY: kill(2) on the monitor this test started through box.
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    wait_until("the container dies with its monitor", || gone(pid));
    let ps = ok(&root.run(&["ps", "-a"]));
    assert!(ps.contains(&name) && ps.contains("dead"), "{ps}");
    // Its cgroup is left for `rm -f` (or for the sweep of orphans a later `box up` runs).
    ok(&root.run(&["rm", "-f", &name]));
}

#[test]
fn unknown_names_and_wrong_states_are_clear_errors() {
    let mut root = Root::new();
    for args in [
        &["inspect", "nope"][..],
        &["stop", "nope"],
        &["rm", "nope"],
        &["logs", "nope"],
        &["ns", "nope"],
    ] {
        let out = root.run(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("no such container: nope"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let name = root.up(&Case::new("done", r#"command = ["/bin/true"]"#));
    ok(&root.run(&["wait", &name]));
    for args in [&["kill", &name][..], &["ns", &name]] {
        let out = root.run(args);
        assert!(
            stderr(&out).contains("is exited"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let bad = root.run(&["inspect", "--format", "{{range .X}}", &name]);
    assert!(stderr(&bad).contains("without {{end}}"), "{}", stderr(&bad));
}

#[test]
fn a_start_failure_is_reported_and_leaves_no_state() {
    let root = Root::new();
    let case = Case::new("nocmd", r#"command = ["/no/such/program"]"#);
    let out = root.run(&["up", "-d", case.file().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/no/such/program"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ok(&root.run(&["ps", "-a"])).lines().count(), 1);
}

/// Replaces what changes from run to run (names, the root, the file) with placeholders.
fn redact(text: &str, name: &str, root: &Root, file: &str) -> String {
    text.replace(file, "[FILE]")
        .replace(&root.dir.path().display().to_string(), "[ROOT]")
        .replace(name, "[NAME]")
}

/// `box ps` with its columns (3+ spaces apart) joined by ` | `, so that a name or pid of
/// another length does not change the snapshot; pid and time masked.
fn ps_cells(table: &str) -> String {
    table
        .lines()
        .map(|line| {
            let mut cells: Vec<String> = line
                .split("   ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            if cells[0] != "NAME" {
                cells[3] = "[PID]".into();
                cells[4] = "[TIME]".into();
            }
            cells.join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ps_and_inspect_output() {
    let mut root = Root::new();
    let case = Case::new(
        "snap",
        &format!("{SLEEP}\n[resources]\nmemory = \"64m\"\npids = 32\n"),
    );
    let name = root.up(&case);
    let file = case.file().display().to_string();
    let ps = ps_cells(&redact(&ok(&root.run(&["ps"])), &name, &root, &file));
    insta::assert_snapshot!("ps", ps);
    let text = redact(&ok(&root.run(&["inspect", &name])), &name, &root, &file);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("inspect prints JSON");
    // What this host decides, on a cgroup2 or v1 host alike: the device policy box wrote, as
    // v1's devices.list shows it (cgroup2 lists none).
    let c = &doc[0]["Cgroup"]["Limits"];
    let policy = &doc[0]["Config"]["Spec"]["cgroup"]["resources"]["devices"];
    assert!(c["devices"].is_null() || c["devices"] == *policy, "{c}");
    // Times as Docker prints them: RFC 3339, UTC, to the nanosecond.
    for time in [&doc[0]["Created"], &doc[0]["State"]["StartedAt"]] {
        let t = time.as_str().expect("a time");
        let shape: String = t
            .chars()
            .map(|ch| if ch.is_ascii_digit() { 'D' } else { ch })
            .collect();
        assert_eq!(shape, "DDDD-DD-DDTDD:DD:DD.DDDDDDDDDZ", "{t}");
    }
    insta::assert_json_snapshot!("inspect", doc, {
        "[].Created" => "[TIME]",
        "[].State.StartedAt" => "[TIME]",
        "[].State.Pid" => "[PID]",
        "[].State.MonitorPid" => "[PID]",
        "[].Namespaces[].Container" => "[INODE]",
        "[].Namespaces[].Host" => "[INODE]",
        // The host's defaults, which the file does not set: they depend on its CPUs and
        // memory nodes, its cgroup version and controllers, its IO scheduler and whether
        // it accounts swap.
        "[].Cgroup.Limits.cpu_period_us" => "[HOST]",
        "[].Cgroup.Limits.cpu_shares" => "[HOST]",
        "[].Cgroup.Limits.cpu_weight" => "[HOST]",
        "[].Cgroup.Limits.cpuset_cpus" => "[HOST]",
        "[].Cgroup.Limits.cpuset_mems" => "[HOST]",
        "[].Cgroup.Limits.devices" => "[HOST]",
        "[].Cgroup.Limits.io_weight" => "[HOST]",
        "[].Cgroup.Limits.memory_swap" => "[HOST]",
    });
}
