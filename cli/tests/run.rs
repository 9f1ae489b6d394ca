//! `box run --dry-run`: the box.toml a Docker-style line means, and the errors of bad options,
//! each naming the option. None of these start a container.

mod common;

use common::{run_box, run_box_with};

fn dry(line: &[&str]) -> String {
    let args = [&["run", "--dry-run"], line].concat();
    let files = [
        ("data/.keep", ""),
        ("rootfs/.keep", ""),
        ("env", "B=2\n# a comment\nFROM_CALLER\n"),
        ("profile.json", r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#),
    ];
    run_box_with(&args, &files, |cmd| {
        cmd.env("TERM", "xterm-256color").env("FROM_CALLER", "yes");
    })
}

#[test]
fn the_articles_lines() {
    insta::assert_snapshot!(dry(&["-it", "--rootfs", "host", "sh"]));
    insta::assert_snapshot!(dry(&[
        "-d", "--name", "c1", "--rootfs", "host", "sleep", "1000"
    ]));
    insta::assert_snapshot!(dry(&["--network=host", "--rootfs", "host", "true"]));
    insta::assert_snapshot!(dry(&[
        "-d",
        "--memory=200m",
        "--cpus=1",
        "--rootfs",
        "host",
        "stress"
    ]));
    insta::assert_snapshot!(dry(&["--cap-drop=ALL", "--rootfs", "host", "true"]));
}

#[test]
fn every_option_with_a_key() {
    insta::assert_snapshot!(dry(&[
        "--name",
        "web",
        "-e",
        "A=1",
        "--env-file",
        "env",
        "-w",
        "/srv",
        "-u",
        "1000:1000",
        "-h",
        "web.local",
        "-v",
        "./data:/data:ro",
        "-v",
        "/etc/hosts:/hosts",
        "--tmpfs",
        "/scratch:size=64m,mode=1777",
        "--read-only",
        "--device",
        "/dev/fuse",
        "--network",
        "mynet",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:5353:53/udp",
        "--memory",
        "200m",
        "--memory-swap",
        "1g",
        "--memory-reservation",
        "100m",
        "--cpus",
        "1.5",
        "--cpu-shares",
        "512",
        "--cpuset-cpus",
        "0-1",
        "--pids-limit",
        "64",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "MKNOD",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "seccomp=profile.json",
        "--ulimit",
        "nofile=1024:2048",
        "--userns",
        "host",
        "--pid",
        "host",
        "--ipc",
        "private",
        "--uts",
        "host",
        "--cgroupns",
        "private",
        "--init",
        "--stop-signal",
        "QUIT",
        "--stop-timeout",
        "3",
        "--entrypoint",
        "/bin/echo",
        "--rootfs",
        "rootfs",
        "hello",
    ]));
}

fn err(line: &[&str]) -> String {
    run_box(&[&["run"], line].concat(), &[])
}

#[test]
fn bad_options_are_named() {
    insta::assert_snapshot!(err(&["--privileged", "--rootfs", "host", "sh"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--memory", "10x", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--cpus", "lots", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--cap-drop", "NET_RAWW", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "-e", "=x", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "-v", "data:/data", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "-v", "/tmp:/data:z", "true"]));
    insta::assert_snapshot!(err(&[
        "--rootfs",
        "host",
        "--network",
        "none",
        "-p",
        "80:80",
        "true"
    ]));
    insta::assert_snapshot!(err(&[
        "--rootfs",
        "host",
        "--security-opt",
        "label=disable",
        "true"
    ]));
    insta::assert_snapshot!(err(&[
        "--rootfs",
        "host",
        "--ulimit",
        "nofile=lots",
        "true"
    ]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--name", "../x", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "-u", "nobody", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "-w", "tmp", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--pid", "sideways", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "/nonexistent", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--stop-signal", "NOPE", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--stop-signal", "STOP", "true"]));
    insta::assert_snapshot!(err(&["--rootfs", "host", "--stop-timeout", "-1", "true"]));
    // An image not in the store: --dry-run never pulls (no test reaches a real registry).
    insta::assert_snapshot!(err(&[
        "--store",
        "/nonexistent/box-store",
        "--dry-run",
        "localhost:1/absent",
        "sh"
    ]));
    insta::assert_snapshot!(err(&[]));
}

#[test]
fn a_terminal_needs_a_terminal_on_stdin() {
    // cargo test's stdin is not a terminal (as in CI), so this is Docker's refusal.
    let out = run_box_with(&["run", "-t", "--rootfs", "host", "true"], &[], |cmd| {
        cmd.stdin(std::process::Stdio::null());
    });
    insta::assert_snapshot!(out);
}

#[test]
fn help() {
    insta::assert_snapshot!(run_box(&["run", "--help"], &[]));
}
