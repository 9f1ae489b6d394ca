//! The helper of `box run`'s end-to-end tests: a state root and a busybox root of its own.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::process::Command;

#[path = "pty.rs"]
pub mod pty;

use box_tests::{busybox_rootfs, ok, require_root, StateRoot};

/// A state root and a busybox root for one test.
pub struct Walk {
    pub state: StateRoot,
    pub dir: tempfile::TempDir,
    pub rootfs: String,
}

impl Walk {
    pub fn new() -> Walk {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("box-run-")
            .tempdir()
            .unwrap();
        let rootfs = busybox_rootfs(dir.path()).display().to_string();
        Walk {
            state: StateRoot::new(),
            dir,
            rootfs,
        }
    }

    /// `box run OPTIONS --rootfs BUSYBOX COMMAND...`, stdin closed.
    pub fn cmd(&self, options: &[&str], command: &[&str]) -> Command {
        let mut args = vec!["run"];
        args.extend_from_slice(options);
        args.extend_from_slice(&["--rootfs", &self.rootfs]);
        args.extend_from_slice(command);
        let mut cmd = self.state.cmd(&args);
        cmd.current_dir(self.dir.path());
        cmd
    }

    pub fn run(&self, options: &[&str], command: &[&str]) -> std::process::Output {
        self.cmd(options, command).output().expect("run box run")
    }

    /// `box run -d`: asserts it printed the name, and removes it at the end of the test.
    pub fn detached(&mut self, name: &str, options: &[&str], command: &[&str]) -> i32 {
        let all = [&["-d", "--name", name], options].concat();
        assert_eq!(ok(&self.run(&all, command)), format!("{name}\n"));
        self.state.names.push(name.to_string());
        self.state.pid(name)
    }
}

pub fn unique(prefix: &str) -> String {
    box_tests::unique_name(prefix)
}

pub fn ns_link(pid: i32, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}
