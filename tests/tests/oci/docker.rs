//! Docker with box-runc as a runtime: a dockerd of the test's own (its data root, exec root,
//! socket, no bridge, no iptables, vfs storage, cgroupfs below the test's `box/oci-docker-…`)
//! started with `--add-runtime box=PATH`, its containerd and the runc shim between them — the
//! article's chain `dockerd → containerd → runc`, with box as the runtime. The image is
//! `docker import`ed from a busybox root.

use std::process::{Command, Output};
use std::time::Duration;

use crate::support::{
    assert_adopted_by_a_shim, box_runc, expect_code, mounts_below, no_box_runc_left, run, text,
    wait_for, Daemon, Scratch,
};

const LIMIT: Duration = Duration::from_secs(120);
const IMAGE: &str = "box-busybox:test";
/// Debian's docker.io client, the one that goes with its dockerd.
const DOCKER: &str = "/usr/bin/docker";

struct Docker {
    daemon: Daemon,
    scratch: Scratch,
}

impl Docker {
    fn start() -> Docker {
        let scratch = Scratch::new("docker");
        std::fs::write(scratch.path("daemon.json"), "{}").unwrap();
        let parent = format!("/{}", scratch.cgroup_parent);
        let mut cmd = Command::new("dockerd");
        cmd.arg("--config-file")
            .arg(scratch.path("daemon.json"))
            .arg("--data-root")
            .arg(scratch.path("data"))
            .arg("--exec-root")
            .arg(scratch.path("exec"))
            .arg("--pidfile")
            .arg(scratch.path("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", scratch.path("docker.sock").display()))
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .args(["--userland-proxy=false", "--storage-driver", "vfs"])
            .args(["--exec-opt", "native.cgroupdriver=cgroupfs"])
            .args(["--cgroup-parent", &parent])
            .arg(format!("--add-runtime=box={}", box_runc().display()));
        let daemon = Daemon::start("dockerd", &mut cmd, &scratch.path("dockerd.log"));
        let mut d = Docker { daemon, scratch };
        let log = d.scratch.path("dockerd.log");
        wait_for("dockerd to answer", LIMIT, || {
            d.daemon.assert_running(&log);
            d.docker(&["version"]).status.success()
        });
        let tar = d.scratch.rootfs_tar();
        expect_code(&d.docker(&["import", tar.to_str().unwrap(), IMAGE]), 0);
        d
    }

    fn docker(&self, args: &[&str]) -> Output {
        run(
            Command::new(DOCKER)
                .arg("-H")
                .arg(format!(
                    "unix://{}",
                    self.scratch.path("docker.sock").display()
                ))
                .args(args),
            LIMIT,
        )
    }

    /// `docker run --runtime box` with `args`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["run", "--runtime", "box"];
        all.extend_from_slice(args);
        self.docker(&all)
    }

    fn inspect(&self, name: &str, format: &str) -> String {
        let out = self.docker(&["inspect", "--format", format, name]);
        expect_code(&out, 0);
        text(&out)
    }

    /// The container's cgroup on the host, in the hierarchy that has `file`.
    fn cgroup_file(&self, id: &str, file: &str) -> Option<String> {
        self.scratch
            .cgroup_dirs()
            .into_iter()
            .filter(|d| d.ends_with(id))
            .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
            .map(|s| s.trim().to_string())
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        let out = self.docker(&["ps", "-aq"]);
        for id in text(&out).lines() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        self.daemon.stop();
    }
}

#[test]
#[ignore = "needs root and Docker (docker.io; cargo xtask test installs it)"]
fn docker_runs_box_as_a_runtime() {
    let d = Docker::start();

    // The article's first command, through the article's chain.
    let out = d.run(&["--rm", "--network", "none", IMAGE, "echo", "hi"]);
    expect_code(&out, 0);
    assert_eq!(text(&out), "hi");
    let out = d.run(&["--rm", "--network", "none", IMAGE, "sh", "-c", "exit 3"]);
    expect_code(&out, 3);

    // --cap-drop ALL: the kernel's word on every set.
    let out = d.run(&[
        "--rm",
        "--network",
        "none",
        "--cap-drop",
        "ALL",
        IMAGE,
        "grep",
        "^Cap",
        "/proc/self/status",
    ]);
    expect_code(&out, 0);
    for line in text(&out).lines() {
        let (name, value) = line.split_once(':').unwrap();
        assert_eq!(
            value.trim(),
            "0000000000000000",
            "{name} with --cap-drop ALL"
        );
    }

    // --network host: the host's network namespace, not one of its own.
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    let out = d.run(&[
        "--rm",
        "--network",
        "host",
        IMAGE,
        "readlink",
        "/proc/self/ns/net",
    ]);
    expect_code(&out, 0);
    assert_eq!(text(&out), host_net.to_string_lossy());

    // -d with --memory 200m: the host's cgroup says 200 MiB.
    let out = d.run(&[
        "-d",
        "--network",
        "none",
        "--name",
        "d1",
        "--memory",
        "200m",
        IMAGE,
        "sleep",
        "1000",
    ]);
    expect_code(&out, 0);
    let id = text(&out);
    assert_eq!(d.inspect("d1", "{{.State.Status}}"), "running");
    assert_eq!(
        d.cgroup_file(&id, "memory.limit_in_bytes")
            .or_else(|| d.cgroup_file(&id, "memory.max")),
        Some("209715200".to_string())
    );
    let pid: i32 = d.inspect("d1", "{{.State.Pid}}").parse().unwrap();
    assert_adopted_by_a_shim(pid);
    no_box_runc_left(&box_runc(), d.scratch.dir.path(), &[]);

    // exec, its output and exit code.
    let out = d.docker(&[
        "exec",
        "d1",
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '",
    ]);
    expect_code(&out, 0);
    assert_eq!(text(&out), "sleep 1000");
    let out = d.docker(&["exec", "d1", "sh", "-c", "exit 4"]);
    expect_code(&out, 4);

    // stop: sleep as PID 1 ignores SIGTERM; SIGKILL after the timeout.
    expect_code(&d.docker(&["stop", "-t", "1", "d1"]), 0);
    assert_eq!(d.inspect("d1", "{{.State.Status}}"), "exited");
    assert_eq!(d.inspect("d1", "{{.State.ExitCode}}"), "137");
    expect_code(&d.docker(&["rm", "d1"]), 0);
    assert_eq!(
        d.cgroup_file(&id, "cgroup.procs"),
        None,
        "its cgroup is gone"
    );
    assert!(
        d.scratch
            .cgroup_dirs()
            .iter()
            .all(|dir| !dir.ends_with(&id)),
        "{:?}",
        d.scratch.cgroup_dirs()
    );
    assert_eq!(
        mounts_below(&d.scratch.path("data/vfs")),
        Vec::<String>::new()
    );
    no_box_runc_left(&box_runc(), d.scratch.dir.path(), &[]);
}
