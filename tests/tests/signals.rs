//! Signals sent to box reach the container's process.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use box_tests::Case;

fn forwarded(signal: libc::c_int, name: &str) {
    // PID 1 gets only the signals it handles, so the shell traps this one.
    let case = Case::new(
        &format!("sig-{}", name.to_lowercase()),
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"trap 'echo got-{name}; exit 7' {name}; echo ready; while :; do sleep 0.05; done\"]\n"
        ),
    );
    let mut child = case
        .command(&["up"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start box");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
    // SAFETY: kill only sends a signal to the box process this test started.
    unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(
        lines.next().and_then(Result::ok),
        Some(format!("got-{name}"))
    );
    assert_eq!(child.wait().expect("wait for box").code(), Some(7));
    case.assert_nothing_left();
}

#[test]
fn sigterm_is_forwarded() {
    forwarded(libc::SIGTERM, "TERM");
}

#[test]
fn sigint_is_forwarded() {
    forwarded(libc::SIGINT, "INT");
}

#[test]
fn sighup_is_forwarded() {
    forwarded(libc::SIGHUP, "HUP");
}
