//! `box run`'s options against the box.toml they mean: the printed file, read back from
//! another directory, is the same container.

use std::path::Path;

use clap::Parser;

use super::{translate, Caller, RunArgs, RunError};
use crate::config;

#[derive(Parser)]
struct Line {
    #[command(flatten)]
    run: RunArgs,
}

fn args(line: &[&str]) -> RunArgs {
    Line::try_parse_from([&["run"], line].concat()).unwrap().run
}

fn caller_env(key: &str) -> Option<String> {
    match key {
        "TERM" => Some("screen-256color".into()),
        "FROM_CALLER" => Some("yes".into()),
        _ => None,
    }
}

fn translated(line: &[&str], cwd: &Path) -> Result<super::Translated, RunError> {
    translate(
        &args(line),
        &Caller {
            env: &caller_env,
            cwd,
        },
    )
}

/// The walkthrough's lines, and one of every option box.toml has a key for.
const LINES: &[&[&str]] = &[
    &["-it", "--rootfs", "host", "sh"],
    &["-d", "--name", "c1", "--rootfs", "host", "sleep", "1000"],
    &["--network=host", "--rootfs", "host", "true"],
    &[
        "-d",
        "--memory=200m",
        "--cpus=1",
        "--rootfs",
        "host",
        "sleep",
        "9",
    ],
    &["--cap-drop=ALL", "--rootfs", "host", "true"],
    &[
        "--name",
        "all",
        "-e",
        "A=1",
        "-e",
        "FROM_CALLER",
        "-w",
        "/tmp",
        "-u",
        "1000:1000",
        "-h",
        "web",
        "-v",
        "./data:/data:ro",
        "--tmpfs",
        "/scratch:size=64m,mode=1777",
        "--read-only",
        "--memory",
        "64m",
        "--memory-swap",
        "-1",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "64",
        "--cap-add",
        "NET_ADMIN",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "seccomp=unconfined",
        "--ulimit",
        "nofile=100:200",
        "--userns",
        "host",
        "--pid",
        "host",
        "--init",
        "--stop-signal",
        "9",
        "--stop-timeout",
        "30",
        "--entrypoint",
        "/bin/echo",
        "--rootfs",
        "host",
        "hi",
    ],
];

#[test]
fn the_printed_box_toml_is_the_same_container() {
    let here = tempfile::tempdir().unwrap();
    std::fs::create_dir(here.path().join("data")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let host = config::Host {
        container_pid: &|_| None,
        images: &|reference| Err(format!("no image {reference} in this test")),
        state_dir: &|name| state.path().join(name),
    };
    for line in LINES {
        let t = translated(line, here.path()).unwrap();
        let spec = t.plan(here.path(), &host).unwrap().spec;
        let file = elsewhere.path().join("box.toml");
        std::fs::write(&file, t.to_toml().unwrap()).unwrap();
        let loaded = config::load(&file).unwrap();
        let mut plan = config::plan(&loaded, &host).unwrap();
        assert_eq!(plan.pop().unwrap().spec, spec, "{line:?}");
    }
}

#[test]
fn options_after_the_command_are_the_commands() {
    let t = translated(
        &["--rootfs", "host", "ls", "-l", "--memory", "1m"],
        Path::new("/"),
    )
    .unwrap();
    assert_eq!(t.doc.command, ["ls", "-l", "--memory", "1m"]);
    assert!(t.doc.resources.is_empty());
}

#[test]
fn a_terminal_gets_the_callers_term_unless_given() {
    let t = translated(&["-t", "--rootfs", "host", "sh"], Path::new("/")).unwrap();
    assert_eq!(t.doc.env["TERM"], "screen-256color");
    let t = translated(
        &["-t", "-e", "TERM=dumb", "--rootfs", "host", "sh"],
        Path::new("/"),
    )
    .unwrap();
    assert_eq!(t.doc.env["TERM"], "dumb");
}

#[test]
fn an_image_is_the_image_key() {
    let t = translated(&["busybox", "sh"], Path::new("/")).unwrap();
    assert_eq!(t.doc.image.as_deref(), Some("busybox"));
    assert!(t.to_toml().unwrap().contains("image = \"busybox\""));
}
