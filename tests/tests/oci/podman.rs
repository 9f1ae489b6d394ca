//! podman with box-runc as its runtime (`--runtime PATH`): its storage, run root, tmpdir and
//! events log in the test's directory, cgroupfs with the containers' cgroups below the test's
//! own `box/oci-podman-…`, conmon as the subreaper that adopts each container's process.
//!
//! This machine's bounding set lacks CAP_SYS_RESOURCE, so podman's default rlimits (above the
//! host's hard limits) cannot be set by any runtime: the issue's `--ulimit`s fit under them.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{
    box_runc, expect_code, hierarchy_roots, mounts_below, no_box_runc_left, run, text, wait_for,
    Scratch,
};

const LIMIT: Duration = Duration::from_secs(120);
const IMAGE: &str = "localhost/box-busybox:test";

struct Podman {
    scratch: Scratch,
}

impl Podman {
    fn new() -> Podman {
        let scratch = Scratch::new("podman");
        // A containers.conf of its own: nothing of the host's configuration applies.
        std::fs::write(scratch.path("containers.conf"), "").unwrap();
        let p = Podman { scratch };
        let tar = p.scratch.rootfs_tar();
        expect_code(&p.podman(&["import", tar.to_str().unwrap(), IMAGE]), 0);
        p
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", self.scratch.path("containers.conf"))
            .arg("--root")
            .arg(self.scratch.path("storage"))
            .arg("--runroot")
            .arg(self.scratch.path("run"))
            .arg("--tmpdir")
            .arg(self.scratch.path("tmp"))
            .args(["--storage-driver", "vfs"])
            .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"])
            .arg("--runtime")
            .arg(box_runc());
        cmd
    }

    fn podman(&self, args: &[&str]) -> Output {
        run(self.command().args(args), LIMIT)
    }

    /// `podman run` with the flags every container of the test takes, then `args`.
    fn run(&self, args: &[&str]) -> Output {
        let parent = format!("/{}", self.scratch.cgroup_parent);
        let mut cmd = self.command();
        cmd.args(["run", "--network", "none", "--cgroup-parent", &parent])
            .args([
                "--ulimit",
                "nofile=20000:20000",
                "--ulimit",
                "nproc=32768:32768",
            ])
            .args(args);
        run(&mut cmd, LIMIT)
    }

    fn inspect(&self, name: &str, format: &str) -> String {
        let out = self.podman(&["inspect", "--format", format, name]);
        expect_code(&out, 0);
        text(&out)
    }

    /// The container's cgroup directories on the host (one per hierarchy).
    fn cgroup_of(&self, id: &str) -> Vec<PathBuf> {
        self.scratch
            .cgroup_dirs()
            .into_iter()
            .filter(|d| d.to_string_lossy().contains(id))
            .collect()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["rm", "--all", "--force", "--time", "0"]);
        let _ = self.podman(&["rmi", "--all", "--force"]);
    }
}

#[test]
#[ignore = "needs root and podman (cargo xtask test installs it)"]
fn podman_runs_box_as_its_runtime() {
    let p = Podman::new();

    // run --rm: the output, the exit code, in a container of its own.
    let out = p.run(&["--rm", IMAGE, "echo", "hi"]);
    expect_code(&out, 0);
    assert_eq!(text(&out), "hi");
    let out = p.run(&["--rm", IMAGE, "sh", "-c", "exit 7"]);
    expect_code(&out, 7);
    // A command that cannot be run: podman's code for it.
    let out = p.run(&["--rm", IMAGE, "/no/such/program"]);
    assert!(
        matches!(out.status.code(), Some(126 | 127)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // run -t: a terminal from box through the console socket to conmon.
    let out = p.run(&["--rm", "-t", IMAGE, "tty"]);
    expect_code(&out, 0);
    assert!(text(&out).starts_with("/dev/pts/"), "{}", text(&out));

    // run -d: conmon adopts the container's process; nothing of box-runc stays.
    let script = "trap 'echo usr1 > /tmp/usr1' USR1; while true; do sleep 0.1; done";
    let out = p.run(&["-d", "--name", "c1", IMAGE, "sh", "-c", script]);
    expect_code(&out, 0);
    let id = text(&out);
    assert_eq!(p.inspect("c1", "{{.State.Status}}"), "running");
    let pid: i32 = p.inspect("c1", "{{.State.Pid}}").parse().unwrap();
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cgroup.contains(&format!("/{}/", p.scratch.cgroup_parent)),
        "{cgroup}"
    );
    let ppid = status_field(pid, "PPid");
    let parent_exe = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert!(parent_exe.ends_with("conmon"), "{}", parent_exe.display());
    no_box_runc_left(&box_runc(), p.scratch.dir.path(), &[]);

    // exec, its exit code, its terminal.
    let out = p.podman(&[
        "exec",
        "c1",
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    expect_code(&out, 0);
    assert_eq!(text(&out), format!("sh -c {script}"));
    let out = p.podman(&["exec", "c1", "sh", "-c", "exit 5"]);
    expect_code(&out, 5);
    let out = p.podman(&["exec", "-t", "c1", "tty"]);
    expect_code(&out, 0);
    assert!(text(&out).starts_with("/dev/pts/"), "{}", text(&out));

    // pause / unpause: the kernel's freezer says so.
    expect_code(&p.podman(&["pause", "c1"]), 0);
    assert_eq!(p.inspect("c1", "{{.State.Status}}"), "paused");
    assert_frozen(&p.cgroup_of(&id), true);
    expect_code(&p.podman(&["unpause", "c1"]), 0);
    assert_eq!(p.inspect("c1", "{{.State.Status}}"), "running");
    assert_frozen(&p.cgroup_of(&id), false);

    // kill -s USR1 reaches the trap.
    expect_code(&p.podman(&["kill", "-s", "USR1", "c1"]), 0);
    wait_for("the USR1 trap", LIMIT, || {
        text(&p.podman(&["exec", "c1", "cat", "/tmp/usr1"])) == "usr1"
    });

    // stop: PID 1 ignores SIGTERM (a shell without a trap for it), so SIGKILL after 1s.
    expect_code(&p.podman(&["stop", "--time", "1", "c1"]), 0);
    assert_eq!(p.inspect("c1", "{{.State.Status}}"), "exited");
    assert_eq!(p.inspect("c1", "{{.State.ExitCode}}"), "137");
    assert!(std::fs::metadata(format!("/proc/{pid}")).is_err());

    // rm: the container's cgroup goes with it, box-runc's state too.
    expect_code(&p.podman(&["rm", "c1"]), 0);
    assert_eq!(p.cgroup_of(&id), Vec::<PathBuf>::new());
    assert_eq!(mounts_below(&p.scratch.rootfs), Vec::<String>::new());
    no_box_runc_left(&box_runc(), p.scratch.dir.path(), &[]);
    // podman's own cgroup for conmon is the only one left below the test's parent.
    for dir in p.scratch.cgroup_dirs() {
        let rel = dir
            .strip_prefix(
                hierarchy_roots()
                    .into_iter()
                    .find(|r| dir.starts_with(r))
                    .unwrap(),
            )
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            rel == p.scratch.cgroup_parent || rel.ends_with("/conmon"),
            "left behind: {}",
            dir.display()
        );
    }
}

fn status_field(pid: i32, field: &str) -> i32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The container's freezer state on the host: v1's freezer, or cgroup2's `cgroup.freeze`
/// when the container's cgroup has one.
#[track_caller]
fn assert_frozen(dirs: &[PathBuf], frozen: bool) {
    let mut seen = Vec::new();
    for dir in dirs {
        if let Ok(s) = std::fs::read_to_string(dir.join("freezer.state")) {
            seen.push(s.trim().to_string());
        }
        if let Ok(s) = std::fs::read_to_string(dir.join("cgroup.freeze")) {
            seen.push(s.trim().to_string());
        }
    }
    let want: &[&str] = if frozen {
        &["FROZEN", "1"]
    } else {
        &["THAWED", "0"]
    };
    assert!(
        !seen.is_empty() && seen.iter().any(|s| want.contains(&s.as_str())),
        "freezer of {dirs:?}: {seen:?}"
    );
}
