//! `box run`'s options about the container's life: `--init`, `-d --rm`, `--stop-signal` and
//! `--stop-timeout`, and `box logs --timestamps`/`--since` of what it wrote.

#[path = "run/walk.rs"]
mod walk;

use box_tests::{box_bin, cgroup_dirs, ok, stderr};
use walk::{unique, Walk};

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
