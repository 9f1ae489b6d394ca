//! A detached container's output reaches `box logs` whole: its stdout is a pipe the monitor
//! copies into the log, so a container can end with output still in the pipe, and `logs -f`
//! must not stop before the monitor has copied it.

use box_tests::{busybox_rootfs, ok, Case, StateRoot};

const LINES: usize = 3000;

#[test]
fn logs_follow_prints_everything_a_container_wrote() {
    let mut root = StateRoot::new();
    // ~200 KiB, several pipe buffers: the last of it is still in the pipe when the shell exits.
    let script = format!(
        "i=0; while [ $i -lt {LINES} ]; do echo line-$i-{}; i=$((i+1)); done",
        "x".repeat(60)
    );
    let case = Case::new(
        "follow",
        &format!("rootfs = \"rootfs\"\ncommand = [\"/bin/sh\", \"-c\", {script:?}]\n"),
    );
    busybox_rootfs(case.dir.path());
    let name = root.up(&case);
    let followed = ok(&root.run(&["logs", "-f", &name]));
    let lines: Vec<&str> = followed.lines().collect();
    assert_eq!(lines.len(), LINES, "logs -f stopped early");
    assert!(lines[LINES - 1].starts_with(&format!("line-{}-", LINES - 1)));
    assert_eq!(ok(&root.run(&["logs", &name])), followed);
}
