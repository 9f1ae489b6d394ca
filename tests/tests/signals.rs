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

/// The `SigIgn` mask of `/proc/self/status` of a command run by `sh -c 'trap "" INT QUIT;
/// exec ARGS'`, as a script's `box up &` would run it.
fn sig_ign_under_ignoring_shell(args: &[&str]) -> String {
    let inner = format!("trap '' INT QUIT; exec {}", args.join(" "));
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", &inner])
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    box_tests::ok(&out)
}

#[test]
fn signals_ignored_by_boxs_caller_are_at_their_default_in_the_container() {
    let grep = "/bin/grep ^SigIgn: /proc/self/status";
    // The shell does pass them on ignored: SIGINT (2) and SIGQUIT (3) are bits 1 and 2.
    let shell = sig_ign_under_ignoring_shell(&[grep]);
    let mask = u64::from_str_radix(shell.trim().trim_start_matches("SigIgn:").trim(), 16);
    assert_eq!(mask.map(|m| m & 0b110), Ok(0b110), "{shell}");
    let case = Case::new(
        "sig-ign",
        "command = [\"/bin/grep\", \"^SigIgn:\", \"/proc/self/status\"]\n",
    );
    let bin = box_tests::box_bin();
    let file = case.file();
    let up = [bin.to_str().unwrap(), "up", file.to_str().unwrap()];
    assert_eq!(
        sig_ign_under_ignoring_shell(&up),
        "SigIgn:\t0000000000000000\n"
    );
    case.assert_nothing_left();

    let mut root = box_tests::StateRoot::new();
    let sleeper = Case::new("sig-ign-exec", "command = [\"/bin/sleep\", \"1000\"]\n");
    let name = root.up(&sleeper);
    let state = root.dir.path().to_str().unwrap().to_string();
    let exec = [
        bin.to_str().unwrap(),
        "--root",
        &state,
        "exec",
        &name,
        "--",
        grep,
    ];
    assert_eq!(
        sig_ign_under_ignoring_shell(&exec),
        "SigIgn:\t0000000000000000\n"
    );
}
