//! A foreground `box up` is a container like a detached one while it runs: `box ps` lists it,
//! `box exec` enters it, `box stop` ends it; its record goes when it ends (`docker run --rm`).

use std::process::Command;
use std::time::{Duration, Instant};

use box_tests::{box_bin, ok, stderr, Case};

fn box_cmd(args: &[&str]) -> std::process::Output {
    Command::new(box_bin())
        .args(args)
        .output()
        .expect("run box")
}

fn wait_running(name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let ps = box_cmd(&["ps"]);
        if ok(&ps)
            .lines()
            .any(|l| l.contains(name) && l.contains("running"))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_foreground_container_is_listed_entered_and_stopped_by_name() {
    let case = Case::new(
        "fg-ps",
        "hostname = \"fg-host\"\ncommand = [\"/bin/sleep\", \"1000\"]\n",
    );
    let mut up = case.command(&["up"]).spawn().expect("start box up");
    assert!(wait_running(&case.name), "box ps never listed it running");
    let exec = box_cmd(&["exec", &case.name, "--", "/bin/hostname"]);
    assert_eq!(ok(&exec), "fg-host\n");
    // sleep has no SIGTERM handler as PID 1: the timeout's SIGKILL ends it.
    let stop = box_cmd(&["stop", "-t", "1", &case.name]);
    ok(&stop);
    let status = up.wait().expect("wait for box up");
    assert_eq!(status.code(), Some(137));
    case.assert_nothing_left();
}

#[test]
fn a_name_in_use_by_a_running_foreground_container_is_refused() {
    let case = Case::new("fg-name", "command = [\"/bin/sleep\", \"1000\"]\n");
    let mut first = case.command(&["up"]).spawn().expect("start box up");
    assert!(wait_running(&case.name));
    let second = case.up();
    assert_eq!(second.status.code(), Some(125));
    assert!(
        stderr(&second).contains("already in use"),
        "{}",
        stderr(&second)
    );
    ok(&box_cmd(&["rm", "-f", &case.name]));
    assert_eq!(first.wait().expect("wait for box up").code(), Some(137));
    case.assert_nothing_left();
}

/// `box up … 2>&1 | head -1` closes box's stderr early: box still removes the container and
/// exits with its command's code (std's `eprintln!` panics there, and box aborts on a panic).
#[test]
fn a_closed_stdout_and_stderr_neither_abort_box_nor_leave_the_container() {
    let case = Case::new("fg-closed", "command = [\"/bin/sh\", \"-c\", \"exit 3\"]\n");
    let mut up = case
        .command(&["up", "--timings"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start box up");
    // Both read ends closed before box writes anything: every write gets EPIPE.
    drop(up.stdout.take());
    drop(up.stderr.take());
    let status = up.wait().expect("wait for box up");
    assert_eq!(status.code(), Some(3), "{status:?}");
    case.assert_nothing_left();
    let ps = Command::new(box_bin())
        .arg("ps")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ps| {
            drop(ps.stdout.take());
            ps.wait()
        })
        .expect("run box ps");
    assert_eq!(ps.code(), Some(0), "{ps:?}");
}

/// box started with its stdout and stderr closed (`>&- 2>&-`) finds `/dev/null` there, as
/// std's start-up would have made it (box starts without it): else the first files box opens
/// would be fds 1 and 2, and its messages would be written into them.
#[test]
fn closed_standard_fds_are_dev_null_not_the_first_files_box_opens() {
    use std::os::unix::process::CommandExt;
    let case = Case::new("fg-nofds", "command = [\"/bin/sleep\", \"2\"]\n");
    let mut up = case.command(&["up", "--timings"]);
    // SAFETY: between fork and exec only async-signal-safe calls: two closes.
    unsafe {
        up.pre_exec(|| {
            libc::close(1);
            libc::close(2);
            Ok(())
        });
    }
    let mut up = up.spawn().expect("start box up");
    assert!(wait_running(&case.name), "the container never ran");
    let fd = |n: u32| std::fs::read_link(format!("/proc/{}/fd/{n}", up.id()));
    let (stdout, stderr) = (fd(1), fd(2));
    let status = up.wait().expect("wait for box up");
    assert_eq!(status.code(), Some(0), "{status:?}");
    case.assert_nothing_left();
    let null = std::path::Path::new("/dev/null");
    assert_eq!(stdout.expect("box's fd 1").as_path(), null);
    assert_eq!(stderr.expect("box's fd 2").as_path(), null);
}
