//! A detached container's stdout and stderr are a pipe its monitor copies into the log, never
//! the log file itself: writing a program to `/proc/self/fd/1` and `chmod 4755` on it must not
//! leave a setuid-root executable on the host.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use box_tests::{busybox_rootfs, ok, Case, StateRoot};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
}

#[test]
fn a_container_cannot_make_its_log_a_setuid_program() {
    let mut root = StateRoot::new();
    let case = Case::new("attack-log", "rootfs = \"rootfs\"\n");
    busybox_rootfs(case.dir.path());
    // Through fd 1 and fd 2 alike; what the container sees of them goes to the log too.
    let script = "echo before; \
        cat /bin/busybox > /proc/self/fd/1; chmod 4755 /proc/self/fd/1; \
        cat /bin/busybox > /proc/self/fd/2; chmod 4755 /proc/self/fd/2; \
        echo; ls -l /proc/self/fd/1 /proc/self/fd/2; echo after";
    let text = std::fs::read_to_string(case.file()).unwrap()
        + &format!("command = [\"/bin/sh\", \"-c\", {script:?}]\n");
    std::fs::write(case.file(), text).unwrap();
    let name = root.up(&case);
    assert_eq!(ok(&root.run(&["wait", &name])).trim(), "0");

    let dir = root.dir.path().join(&name);
    let log = dir.join("log");
    assert_eq!(
        mode(&log) & 0o7777,
        0o600,
        "the log is rw------- whatever the container did"
    );
    assert!(std::fs::symlink_metadata(&log).unwrap().is_file());
    assert_eq!(mode(&dir) & 0o7777, 0o700, "the state directory is private");
    assert_eq!(mode(root.dir.path()) & 0o7777, 0o700);

    // Everything arrived, in order: the line before, both copies of the program, then what
    // the container saw of its fd 1 and 2 (pipes, not a file of the host).
    let logs = root.run(&["logs", &name]);
    ok(&logs);
    let busybox = std::fs::read("/bin/busybox")
        .or_else(|_| std::fs::read("/usr/bin/busybox"))
        .unwrap();
    let out = logs.stdout.as_slice();
    let rest = out
        .strip_prefix(b"before\n".as_slice())
        .expect("the first line");
    let rest = rest
        .strip_prefix(busybox.as_slice())
        .expect("the copy through fd 1");
    let rest = rest
        .strip_prefix(busybox.as_slice())
        .expect("the copy through fd 2");
    let rest = String::from_utf8_lossy(rest);
    assert!(rest.ends_with("after\n"), "{rest}");
    assert!(rest.contains("/proc/self/fd/1 -> pipe:["), "{rest}");
    assert!(rest.contains("/proc/self/fd/2 -> pipe:["), "{rest}");
}
