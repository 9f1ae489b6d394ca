//! A state root on a full disk: a claim fails cleanly and leaves nothing (item 5); a running
//! container's exit is still recorded, and said where it was recorded (item 7). When nothing
//! at all can be recorded (its monitor was killed), `stop` says so.

use box_tests::{ok, stderr, Case, StateRoot as Root};

use super::support::{assert_gone, root_on, run, signal, Tmpfs, SLEEP};

#[test]
fn a_claim_on_a_full_disk_fails_cleanly_and_leaves_nothing() {
    let fs = Tmpfs::new("64k");
    let root = root_on(&fs);
    fs.fill();
    let case = Case::new("fullclaim", SLEEP);
    let up = run(&root, &["up", "-d", case.file().to_str().unwrap()]);
    assert_eq!(up.status.code(), Some(125), "{}", stderr(&up));
    let message = stderr(&up);
    assert!(
        message.contains(&format!("container {}", case.name))
            && message.contains("No space left on device"),
        "{message}"
    );
    assert_gone(&root, &case.name);
    assert_eq!(ok(&run(&root, &["ps", "-a"])).lines().count(), 1);
}

#[test]
fn an_exit_on_a_full_disk_is_still_recorded() {
    let fs = Tmpfs::new("512k");
    let mut root = root_on(&fs);
    let name = root.up(&Case::new("fullexit", SLEEP));
    let waiter = super::support::spawn(&root, &["wait", &name]);
    let filler = fs.fill();
    assert_eq!(
        ok(&run(&root, &["stop", "-t", "1", &name])),
        format!("{name}\n")
    );
    let ps = ok(&run(&root, &["ps", "-a"]));
    assert!(ps.contains("exited (137)"), "{ps}");
    assert_eq!(ok(&super::support::finish(waiter, "box wait")), "137\n");
    let why = root.field(&name, "{{.State.StateError}}");
    assert!(why.contains("No space left on device"), "{why}");
    std::fs::remove_file(filler).unwrap();
    assert_eq!(ok(&run(&root, &["rm", &name])), format!("{name}\n"));
    assert_gone(&root, &name);
    root.names.clear();
}

#[test]
fn stop_says_when_an_end_was_never_recorded() {
    let mut root = Root::new();
    let name = root.up(&Case::new("unrecorded", SLEEP));
    let monitor: i32 = root.field(&name, "{{.State.MonitorPid}}").parse().unwrap();
    signal(monitor, libc::SIGKILL);
    let stop = run(&root, &["stop", "-t", "1", &name]);
    assert_eq!(ok(&stop), format!("{name}\n"));
    assert!(
        stderr(&stop).contains("ended without recording how"),
        "{}",
        stderr(&stop)
    );
    assert!(ok(&run(&root, &["ps", "-a"])).contains("dead"));
}
