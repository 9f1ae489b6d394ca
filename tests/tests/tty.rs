//! `tty = true` / `box up -t`: a pseudo-terminal from the container's own devpts as its
//! controlling terminal, connected to box's.

use box_tests::{box_bin, ok, on_a_terminal, Case};
use walk::pty::Pty;
use walk::Walk;

#[path = "run/walk.rs"]
mod walk;

#[test]
fn the_container_gets_its_own_pty_as_controlling_terminal_and_console() {
    let case = Case::new(
        "tty-pty",
        r#"command = ["/bin/sh", "-c", "tty; test -t 0 && echo interactive; stat -c %t /dev/console; readlink /dev/ptmx"]"#,
    );
    let out = case.command(&["up", "-t"]).output().expect("run box up -t");
    let text = ok(&out).replace("\r\n", "\n");
    // 0x88 = 136, the pts major: /dev/console is the container's pty.
    assert_eq!(text, "/dev/pts/0\ninteractive\n88\npts/ptmx\n");
    case.assert_nothing_left();
}

#[test]
fn an_interactive_shell_reads_the_terminal_and_exits_with_its_code() {
    let case = Case::new("tty-shell", "command = [\"/bin/sh\"]\ntty = true\n");
    // script(1) gives box a real terminal on its stdin, as a person's shell would.
    let inner = format!("{} up {}", box_bin().display(), case.file().display());
    let out = on_a_terminal(&inner, b"echo hi-from-$(hostname); exit 3\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("hi-from-{}", case.name)), "{text}");
    assert_eq!(out.status.code(), Some(3), "{text}");
    case.assert_nothing_left();
}

/// `box run -it` on a terminal the test owns: `TERM` is the caller's, the container's pty has
/// box's terminal size from the start and follows a resize mid-session (box gets SIGWINCH as
/// the terminal's foreground, and copies the size to the container's pty), and box exits
/// with the shell's code.
#[test]
fn box_run_it_follows_a_resize_of_its_terminal() {
    let w = Walk::new();
    let name = walk::unique("tty-resize");
    let mut pty = Pty::new(24, 80);
    let mut cmd = w.cmd(&["-it", "--name", &name], &["sh"]);
    cmd.env("TERM", "screen-256color");
    let mut child = pty.spawn(&mut cmd);
    // The markers are split in what is typed, so that the echo of the line never matches.
    let size = "echo \"S\"\"Z$(stty size)E\"\"Z\"";
    pty.type_line("echo \"T\"\"Z$TERM\"E\"\"Z");
    assert_eq!(pty.next_between("TZ", "EZ"), "screen-256color");
    pty.type_line(size);
    assert_eq!(pty.next_between("SZ", "EZ"), "24 80");

    pty.resize(50, 132);
    // box applies the new size when its SIGWINCH arrives: ask until the shell sees it.
    let deadline = std::time::Instant::now() + walk::pty::DEADLINE;
    loop {
        pty.type_line(size);
        let seen = pty.next_between("SZ", "EZ");
        if seen == "50 132" {
            break;
        }
        assert_eq!(seen, "24 80", "neither the old size nor the new one");
        assert!(
            std::time::Instant::now() < deadline,
            "the container's terminal never got the new size:\n{}",
            pty.text()
        );
    }
    pty.type_line("exit 7");
    let status = child.wait().expect("wait for box");
    assert_eq!(status.code(), Some(7), "{}", pty.text());
    for dir in box_tests::cgroup_dirs(&name) {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
}

/// Closing the terminal `box run -it` runs on (its window closed) ends the container: box
/// hangs up the container's terminal in turn, its shell ends, box exits and leaves nothing,
/// rather than waiting forever for a terminal nobody has.
#[test]
fn box_run_it_ends_when_its_terminal_hangs_up() {
    let w = Walk::new();
    let name = walk::unique("tty-hangup");
    let mut pty = Pty::new(24, 80);
    let mut child = pty.spawn(&mut w.cmd(&["-it", "--name", &name], &["sh"]));
    pty.type_line("echo \"U\"\"Z$(tty)E\"\"Z\"");
    assert_eq!(pty.next_between("UZ", "EZ"), "/dev/pts/0");
    pty.hang_up();
    let deadline = std::time::Instant::now() + walk::pty::DEADLINE;
    while child.try_wait().expect("wait for box").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("box outlived its terminal");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for dir in box_tests::cgroup_dirs(&name) {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
}
