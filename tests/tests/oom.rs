//! The kernel's OOM killer and the exit code: as Docker does, box keeps PID 1's own exit code
//! and records `OOMKilled` apart. PID 1 killed by the OOM killer ends with 137 (SIGKILL is 9);
//! a child killed while PID 1 goes on and exits 0 ends with 0, and box says that a process of
//! the container was OOM-killed.

use box_tests::{ok, stderr, stdout, Case, StateRoot};

/// A container limited to 32 MiB of memory (and no swap beyond it) running `script` in sh.
fn limited(prefix: &str, script: &str) -> Case {
    Case::new(
        prefix,
        &format!(
            "command = [\"/bin/sh\", \"-c\", '{script}']\n\
             [resources]\nmemory = \"32m\"\nmemory_swap = \"32m\"\n"
        ),
    )
}

/// `tail` keeps the last lines of a file without newlines: it grows until the OOM killer
/// kills it. The shell (PID 1) reports how tail ended and exits 0.
const CHILD_OOM: &str = "tail /dev/zero; echo tail ended with $?; exit 0";

/// The shell itself holds 64 MiB in a variable: PID 1 is the process the OOM killer picks.
const PID1_OOM: &str = r#"x=$(head -c 67108864 /dev/zero | tr "\0" a); echo survived"#;

#[test]
fn a_child_killed_by_the_oom_killer_leaves_pid_1s_exit_code() {
    let case = limited("oom-child", CHILD_OOM);
    let out = case.up();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "tail ended with 137\n");
    assert!(
        stderr(&out).contains(&format!(
            "a process of container {} was killed by the kernel's OOM killer",
            case.name
        )),
        "stderr: {}",
        stderr(&out)
    );
    case.assert_nothing_left();
}

#[test]
fn detached_the_state_records_pid_1s_code_and_oom_killed() {
    let mut root = StateRoot::new();
    let child = root.up(&limited("oom-child-d", CHILD_OOM));
    let pid1 = root.up(&limited("oom-pid1-d", PID1_OOM));
    assert_eq!(ok(&root.run(&["wait", &child])).trim(), "0");
    assert_eq!(ok(&root.run(&["wait", &pid1])).trim(), "137");
    let state = "{{.State.ExitCode}} {{.State.OOMKilled}}";
    assert_eq!(root.field(&child, state), "0 true");
    assert_eq!(root.field(&pid1, state), "137 true");
    // stdout and stderr in one log: the shell's "Killed" note, then its echo.
    let log = ok(&root.run(&["logs", &child]));
    assert!(log.ends_with("tail ended with 137\n"), "{log}");
}
