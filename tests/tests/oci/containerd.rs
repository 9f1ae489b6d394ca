//! containerd with box-runc behind its runc shim: a containerd of the test's own (a scratch
//! config: its root, state and socket in the test's directory, no CRI plugin), driven with
//! `ctr run --runc-binary PATH` on the test's busybox root (`--rootfs`, no image store), the
//! shim's runtime state and the container's cgroup in the test's directories too.

use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{
    assert_adopted_by_a_shim, box_runc, expect_code, no_box_runc_left, run, text, wait_for, Daemon,
    Scratch,
};

const LIMIT: Duration = Duration::from_secs(120);
const NAMESPACE: &str = "box-test";

struct Containerd {
    daemon: Daemon,
    scratch: Scratch,
}

impl Containerd {
    fn start() -> Containerd {
        let scratch = Scratch::new("containerd");
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{opt}"
"#,
            root = scratch.path("root").display(),
            state = scratch.path("state").display(),
            sock = scratch.path("containerd.sock").display(),
            opt = scratch.path("opt").display(),
        );
        std::fs::write(scratch.path("config.toml"), config).unwrap();
        let mut cmd = Command::new("containerd");
        cmd.arg("--config").arg(scratch.path("config.toml"));
        let log = scratch.path("containerd.log");
        let daemon = Daemon::start("containerd", &mut cmd, &log);
        let mut c = Containerd { daemon, scratch };
        wait_for("containerd to answer", LIMIT, || {
            c.daemon.assert_running(&log);
            c.ctr(&["version"]).status.success()
        });
        c
    }

    fn ctr(&self, args: &[&str]) -> Output {
        run(
            Command::new("ctr")
                .arg("--address")
                .arg(self.scratch.path("containerd.sock"))
                .args(["--namespace", NAMESPACE])
                .args(args),
            LIMIT,
        )
    }

    /// `ctr run` of the test's root with box-runc as the shim's runtime, then `args`.
    fn run(&self, id: &str, args: &[&str]) -> Output {
        let runc = box_runc();
        let cgroup = format!("/{}/{id}", self.scratch.cgroup_parent);
        let runc_root = self.scratch.path("runc");
        let fifo_dir = self.scratch.path("fifo");
        let mut all = vec![
            "run",
            "--fifo-dir",
            fifo_dir.to_str().unwrap(),
            "--rootfs",
            "--runc-binary",
            runc.to_str().unwrap(),
            "--runc-root",
            runc_root.to_str().unwrap(),
            "--cgroup",
            &cgroup,
        ];
        all.extend_from_slice(args);
        let rootfs = self.scratch.rootfs.to_str().unwrap().to_string();
        // The root, the id, then the command.
        all.extend_from_slice(&[&rootfs, id, "sleep", "1000"]);
        self.ctr(&all)
    }

    fn task_pid(&self, id: &str) -> i32 {
        let out = self.ctr(&["task", "ls"]);
        expect_code(&out, 0);
        text(&out)
            .lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(id)).then(|| f.next().unwrap().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no task {id}: {}", text(&out)))
    }

    fn task_status(&self, id: &str) -> String {
        let out = self.ctr(&["task", "ls"]);
        expect_code(&out, 0);
        text(&out)
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.first() == Some(&id)).then(|| f[2].to_string())
            })
            .unwrap_or_else(|| panic!("no task {id}: {}", text(&out)))
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let out = self.ctr(&["task", "ls", "-q"]);
        for id in text(&out).lines() {
            let _ = self.ctr(&["task", "kill", "-s", "KILL", id]);
            let _ = self.ctr(&["task", "delete", "--force", id]);
        }
        let out = self.ctr(&["container", "ls", "-q"]);
        for id in text(&out).lines() {
            let _ = self.ctr(&["container", "delete", id]);
        }
        self.daemon.stop();
    }
}

#[test]
#[ignore = "needs root and containerd (cargo xtask test installs it)"]
fn containerd_runs_box_behind_its_runc_shim() {
    let c = Containerd::start();
    let id = "c1";
    expect_code(&c.run(id, &["-d"]), 0);
    assert_eq!(c.task_status(id), "RUNNING");
    let pid = c.task_pid(id);
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cgroup.contains(&format!("/{}/{id}\n", c.scratch.cgroup_parent)),
        "{cgroup}"
    );
    assert_adopted_by_a_shim(pid);
    no_box_runc_left(&box_runc(), c.scratch.dir.path(), &[]);

    // task exec: output and exit code.
    let fifo_dir = c.scratch.path("fifo");
    let out = c.ctr(&[
        "task",
        "exec",
        "--fifo-dir",
        fifo_dir.to_str().unwrap(),
        "--exec-id",
        "e1",
        id,
        "sh",
        "-c",
        "echo in; exit 6",
    ]);
    expect_code(&out, 6);
    assert_eq!(text(&out), "in");

    // task ps: the container's processes, by host pid.
    let out = c.ctr(&["task", "ps", id]);
    expect_code(&out, 0);
    assert!(
        text(&out)
            .lines()
            .any(|l| l.split_whitespace().next() == Some(&pid.to_string())),
        "{}",
        text(&out)
    );

    // pause / resume, as the kernel's freezer has it.
    expect_code(&c.ctr(&["task", "pause", id]), 0);
    assert_eq!(c.task_status(id), "PAUSED");
    assert_eq!(freezer(&c, id), "FROZEN");
    expect_code(&c.ctr(&["task", "resume", id]), 0);
    assert_eq!(c.task_status(id), "RUNNING");
    assert_eq!(freezer(&c, id), "THAWED");

    // kill, then delete: the process, its cgroup and box-runc's state are gone.
    expect_code(&c.ctr(&["task", "kill", "-s", "KILL", id]), 0);
    wait_for("the task to stop", LIMIT, || c.task_status(id) == "STOPPED");
    let out = c.ctr(&["task", "delete", id]);
    expect_code(&out, 0);
    expect_code(&c.ctr(&["container", "delete", id]), 0);
    assert!(std::fs::metadata(format!("/proc/{pid}")).is_err());
    assert!(
        c.scratch.cgroup_dirs().iter().all(|d| !d.ends_with(id)),
        "{:?}",
        c.scratch.cgroup_dirs()
    );
    let left: Vec<_> = std::fs::read_dir(c.scratch.path("runc"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        left.iter().all(|ns| !ns.join(id).exists()),
        "box-runc's state is left: {left:?}"
    );
    no_box_runc_left(&box_runc(), c.scratch.dir.path(), &[]);
}

/// v1's freezer state of the container's cgroup, or cgroup2's as FROZEN/THAWED.
fn freezer(c: &Containerd, id: &str) -> String {
    let dirs = c.scratch.cgroup_dirs();
    for dir in dirs.iter().filter(|d| d.ends_with(id)) {
        if let Ok(s) = std::fs::read_to_string(dir.join("freezer.state")) {
            return s.trim().to_string();
        }
        if let Ok(s) = std::fs::read_to_string(dir.join("cgroup.freeze")) {
            return if s.trim() == "1" { "FROZEN" } else { "THAWED" }.to_string();
        }
    }
    panic!("no freezer for {id} in {dirs:?}");
}
