//! `tty = true` / `box up -t`: a pseudo-terminal from the container's own devpts as its
//! controlling terminal, connected to box's.

use std::io::Write;
use std::process::{Command, Stdio};

use box_tests::{box_bin, ok, Case};

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
    let mut script = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdin = script.stdin.take().expect("script's stdin");
    stdin
        .write_all(b"echo hi-from-$(hostname); exit 3\n")
        .expect("type into the terminal");
    let out = script.wait_with_output().expect("wait for script");
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("hi-from-{}", case.name)), "{text}");
    assert_eq!(out.status.code(), Some(3), "{text}");
    case.assert_nothing_left();
}
