//! `box run`: the article's `docker run` lines with `box` in place of `docker`, on a busybox
//! root, each checked against what the kernel reports — inside the container
//! (`/proc/self/status`, its namespace links) and on the host (its cgroup's files).

use std::io::Write;
use std::process::{Command, Stdio};

use box_tests::{box_bin, busybox_rootfs, cgroup_dirs, ok, require_root, stderr, StateRoot};

/// A state root and a busybox root for one test.
struct Walk {
    state: StateRoot,
    dir: tempfile::TempDir,
    rootfs: String,
}

impl Walk {
    fn new() -> Walk {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("box-run-")
            .tempdir()
            .unwrap();
        let rootfs = busybox_rootfs(dir.path()).display().to_string();
        Walk {
            state: StateRoot::new(),
            dir,
            rootfs,
        }
    }

    /// `box run OPTIONS --rootfs BUSYBOX COMMAND...`, stdin closed.
    fn cmd(&self, options: &[&str], command: &[&str]) -> Command {
        let mut args = vec!["run"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["--rootfs", &self.rootfs]);
        args.extend_from_slice(command);
        let mut cmd = self.state.cmd(&args);
        cmd.current_dir(self.dir.path());
        cmd
    }

    fn run(&self, options: &[&str], command: &[&str]) -> std::process::Output {
        self.cmd(options, command).output().expect("run box run")
    }

    /// `box run -d`: asserts it printed the name, and removes it at the end of the test.
    fn detached(&mut self, name: &str, options: &[&str], command: &[&str]) -> i32 {
        let all = [&["-d", "--name", name], options].concat();
        assert_eq!(ok(&self.run(&all, command)), format!("{name}\n"));
        self.state.names.push(name.to_string());
        self.state.pid(name)
    }
}

fn unique(prefix: &str) -> String {
    box_tests::unique_name(prefix)
}

fn ns_link(pid: i32, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}

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
        child.stdin.take().unwrap().write_all(b"typed\n").unwrap();
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
    let mut script = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdin = script.stdin.take().unwrap();
    stdin
        .write_all(b"echo term=$TERM size=$(stty size) tty=$(tty); exit 7\n")
        .unwrap();
    let out = script.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("term=screen-256color size=33 101 tty=/dev/pts/0"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(7), "{text}");
}

/// `--init`: box-init is PID 1 and forwards SIGTERM, so `box stop` of `sleep` ends it with
/// SIGTERM's 143, not SIGKILL's 137 after the timeout.
#[test]
fn init_forwards_sigterm_so_sleep_stops() {
    let mut w = Walk::new();
    let name = unique("run-init");
    let pid = w.detached(&name, &["--init"], &["sleep", "1000"]);
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(cmdline, "/dev/init\u{0}--\u{0}sleep\u{0}1000\u{0}");
    ok(&w.state.run(&["stop", "-t", "600", &name]));
    assert_eq!(w.state.field(&name, "{{.State.ExitCode}}"), "143");
}

/// box-init reaps and passes the exit code on; it is a read-only copy of box-init, never box's
/// binary, and the container cannot write it: the host's copy is unchanged afterwards.
#[test]
fn init_is_a_read_only_copy_the_container_cannot_touch() {
    let w = Walk::new();
    let attack = "readlink /proc/1/exe; \
        echo x > /proc/1/exe && echo wrote-exe; \
        echo x > /dev/init && echo wrote-init; \
        mount -o remount,rw /dev/init && echo remounted; \
        grep ' /dev/init ' /proc/self/mountinfo | grep -q ' ro,' && echo read-only; \
        sleep 1000 & exit 9";
    let out = w.run(&["--init"], &["sh", "-c", attack]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/dev/init\nread-only\n"
    );
    let copy = std::fs::read_dir("/var/lib/box/init")
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("box-init-")
        })
        .unwrap();
    let bytes = std::fs::read(&copy).unwrap();
    assert!(bytes.starts_with(b"\x7fELF"));
    // Named by its content's hash (FNV-1a, as cli/build.rs computes it): unchanged.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    assert!(
        copy.ends_with(format!("box-init-{hash:016x}")),
        "{}",
        copy.display()
    );
    assert_ne!(bytes, std::fs::read(box_bin()).unwrap());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o555);
}

/// `-d --rm`: once it has ended, nothing of the container is left — no state, no cgroup.
#[test]
fn detached_with_rm_is_removed_once_it_ends() {
    let w = Walk::new();
    let name = unique("run-rm");
    let out = w.run(
        &["-d", "--rm", "--init", "--name", &name],
        &["sleep", "1000"],
    );
    assert_eq!(ok(&out), format!("{name}\n"));
    assert_eq!(ok(&w.state.run(&["ps", "-q"])), format!("{name}\n"));
    ok(&w.state.run(&["stop", &name]));
    assert_eq!(ok(&w.state.run(&["ps", "-a", "-q"])), "");
    assert!(!w.state.dir.path().join(&name).exists());
    for dir in cgroup_dirs(&name) {
        assert!(!dir.exists(), "{}", dir.display());
    }
}

/// `--stop-signal` and `--stop-timeout` are the container's own: `box stop` sends SIGINT
/// (box-init forwards it; `sleep` dies of it: 130), and inspect shows both.
#[test]
fn stop_signal_and_timeout_are_what_box_stop_uses() {
    let mut w = Walk::new();
    let name = unique("run-stopsig");
    let options = ["--init", "--stop-signal", "INT", "--stop-timeout", "600"];
    w.detached(&name, &options, &["sleep", "1000"]);
    let stop = w.state.field(&name, "{{json .Config.Stop}}");
    assert_eq!(stop, r#"{"signal":2,"timeout":600}"#);
    ok(&w.state.run(&["stop", &name]));
    assert_eq!(w.state.field(&name, "{{.State.ExitCode}}"), "130");
}

/// `box logs --timestamps` and `--since`: each line behind the time it was written; `--since`
/// a time after the first line leaves it out.
#[test]
fn logs_have_each_lines_time() {
    let mut w = Walk::new();
    let name = unique("run-logs");
    w.detached(&name, &["--init"], &["sh", "-c", "echo one; sleep 1000"]);
    // The line is written once the shell runs: wait for it (a bounded wait, not a timing).
    let first = (0..3000)
        .map(|_| ok(&w.state.run(&["logs", "--timestamps", &name])))
        .find(|out| {
            !out.is_empty() || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                false
            }
        })
        .expect("the container's first line in its log");
    let (stamp, line) = first.split_once(' ').unwrap();
    assert_eq!(line, "one\n");
    let at = humantime::parse_rfc3339(stamp).unwrap();
    let age = std::time::SystemTime::now().duration_since(at).unwrap();
    assert!(age.as_secs() < 600, "{stamp}");
    // Since a moment after that line: nothing; since that very line: it.
    let later = humantime::format_rfc3339_nanos(at + std::time::Duration::from_nanos(1));
    assert_eq!(
        ok(&w.state.run(&["logs", "--since", &later.to_string(), &name])),
        ""
    );
    assert_eq!(
        ok(&w.state.run(&["logs", "--since", stamp, &name])),
        "one\n"
    );
    assert_eq!(ok(&w.state.run(&["logs", "--since", "1h", &name])), "one\n");
}
