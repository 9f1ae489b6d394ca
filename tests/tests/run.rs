//! `box run`: the article's `docker run` lines with `box` in place of `docker`, on a busybox
//! root, each checked against what the kernel reports — inside the container
//! (`/proc/self/status`, its namespace links) and on the host (its cgroup's files).

use std::io::Write;
use std::process::Stdio;

#[path = "run/walk.rs"]
mod walk;

use box_tests::{box_bin, cgroup_dirs, ok, on_a_terminal, stderr};
use walk::{ns_link, unique, Walk};

/// `docker run -d --name c1 ubuntu sleep 1000` twice, then `docker inspect --format
/// '{{.State.Pid}}'`: two host processes, in net namespaces of their own.
#[test]
fn two_detached_sleeps_are_host_processes_with_their_own_namespaces() {
    let mut w = Walk::new();
    let (c1, c2) = (unique("run-c1"), unique("run-c2"));
    let p1 = w.detached(&c1, &[], &["sleep", "1000"]);
    let p2 = w.detached(&c2, &[], &["sleep", "1000"]);
    let cmdline = std::fs::read_to_string(format!("/proc/{p1}/cmdline")).unwrap();
    assert_eq!(cmdline, "sleep\u{0}1000\u{0}");
    assert_ne!(ns_link(p1, "net"), ns_link(p2, "net"));
    assert_ne!(
        ns_link(p1, "net"),
        ns_link(std::process::id() as i32, "net")
    );
    let listed = ok(&w.state.run(&["ps", "-q"]));
    let mut names: Vec<&str> = listed.lines().collect();
    names.sort();
    let mut want = vec![c1.as_str(), c2.as_str()];
    want.sort();
    assert_eq!(names, want);
    let row = ok(&w.state.run(&["ps", "--format", "{{.Name}} {{.Pid}}"]));
    assert!(row.contains(&format!("{c1} {p1}\n")), "{row}");
    // Its own cgroup holds it.
    let procs = cgroup_dirs(&c1)
        .into_iter()
        .find_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .unwrap();
    assert_eq!(procs.trim(), p1.to_string());
}

/// `docker run --network=host ubuntu`: the host's net namespace, the rest its own.
#[test]
fn network_host_is_the_hosts_net_namespace() {
    let w = Walk::new();
    let out = w.run(
        &["--network=host"],
        &[
            "sh",
            "-c",
            "readlink /proc/self/ns/net; readlink /proc/self/ns/uts",
        ],
    );
    let text = ok(&out);
    let me = std::process::id() as i32;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, [ns_link(me, "net").as_str(), lines[1]]);
    assert_ne!(lines[1], ns_link(me, "uts"));
}

/// `docker run -d --memory=200m --cpus=1 ubuntu stress`: the kernel's limits in its cgroup.
#[test]
fn memory_and_cpus_are_the_cgroups_limits() {
    let mut w = Walk::new();
    let name = unique("run-mem");
    w.detached(&name, &["--memory=200m", "--cpus=1"], &["sleep", "1000"]);
    let read = |file: &str| {
        cgroup_dirs(&name)
            .into_iter()
            .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
            .map(|t| t.trim().to_string())
    };
    let memory = read("memory.limit_in_bytes").or_else(|| read("memory.max"));
    assert_eq!(memory.as_deref(), Some("209715200"));
    match read("cpu.cfs_quota_us") {
        Some(quota) => assert_eq!(quota, "100000"),
        None => assert_eq!(read("cpu.max").as_deref(), Some("100000 100000")),
    }
}

/// `docker run --cap-drop=ALL ubuntu`: root without power, as the kernel says.
#[test]
fn cap_drop_all_leaves_no_capability() {
    let w = Walk::new();
    let out = w.run(&["--cap-drop=ALL"], &["grep", "^Cap", "/proc/self/status"]);
    let text = ok(&out);
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            text.contains(&format!("{set}:\t0000000000000000")),
            "{set}: {text}"
        );
    }
}

/// The process options: environment (with HOSTNAME always), workdir, user, a read-only bind,
/// the exit code, and nothing left once a foreground run ends.
#[test]
fn process_options_and_the_exit_code() {
    let w = Walk::new();
    std::fs::write(w.dir.path().join("shared"), "from the host\n").unwrap();
    let name = unique("run-proc");
    let script = "echo $HOSTNAME $A; pwd; id -u; cat /data/shared; echo x > /data/shared; exit 3";
    let out = w.run(
        &[
            "--name",
            &name,
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "-u",
            "1000",
            "-v",
            ".:/data:ro",
        ],
        &["sh", "-c", script],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, format!("{name} 1\n/tmp\n1000\nfrom the host\n"));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(w.dir.path().join("shared")).unwrap(),
        "from the host\n"
    );
    assert!(!w.state.dir.path().join(&name).exists());
    for dir in cgroup_dirs(&name) {
        assert!(!dir.exists(), "{}", dir.display());
    }
}

/// Without -i the container reads /dev/null; with -i, box's stdin.
#[test]
fn stdin_is_the_containers_only_with_interactive() {
    let w = Walk::new();
    for (options, want) in [(&[][..], ""), (&["-i"][..], "typed\n")] {
        let mut child = w
            .cmd(options, &["cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let written = child.stdin.take().unwrap().write_all(b"typed\n");
        // Without -i box never reads it, and may be gone already (its `cat` read /dev/null).
        match written {
            Err(e) if options.is_empty() && e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.unwrap(),
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(ok(&out), want, "{options:?}");
    }
}

/// `docker run -it ubuntu bash`, in a terminal made by script(1): the container's TERM is the
/// caller's, its terminal has the caller's size, and box exits with the shell's code.
#[test]
fn run_it_gives_a_terminal_with_the_callers_term_and_size() {
    let w = Walk::new();
    let line = format!(
        "stty rows 33 cols 101; TERM=screen-256color {} --root {} run -it --rootfs {} sh",
        box_bin().display(),
        w.state.dir.path().display(),
        w.rootfs
    );
    let out = on_a_terminal(
        &line,
        b"echo term=$TERM size=$(stty size) tty=$(tty); exit 7\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("term=screen-256color size=33 101 tty=/dev/pts/0"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(7), "{text}");
}
