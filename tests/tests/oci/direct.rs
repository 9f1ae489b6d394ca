//! box-runc driven directly, as an engine drives it, on a bundle the test writes: what each
//! command leaves is read from the kernel (the process, its parent, its cgroup's files on the
//! host) and from the state box-runc prints.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{
    box_runc, expect_code, no_box_runc_left, run, run_to_files, text, wait_for, Scratch,
};

pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// A bundle from `box-runc spec`, running `args` in the test's busybox root, its cgroup at
/// `<parent>/<id>`.
pub(crate) struct Bundle {
    pub(crate) scratch: Scratch,
    pub(crate) root: PathBuf,
}

impl Bundle {
    pub(crate) fn new(what: &str, edit: impl FnOnce(&mut Value)) -> Bundle {
        let scratch = Scratch::new(what);
        let b = Bundle {
            root: scratch.path("state"),
            scratch,
        };
        expect_code(&b.runc(&["spec", "--bundle", b.dir().to_str().unwrap()]), 0);
        let path = b.dir().join("config.json");
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config["process"]["terminal"] = json!(false);
        config["root"]["readonly"] = json!(false);
        // Below the test's own subtree (the default would be box/oci/ID, shared by all).
        config["linux"]["cgroupsPath"] = json!(format!("/{}/{what}", b.scratch.cgroup_parent));
        edit(&mut config);
        std::fs::write(&path, config.to_string()).unwrap();
        b
    }

    pub(crate) fn dir(&self) -> &Path {
        self.scratch.dir.path()
    }

    pub(crate) fn runc(&self, args: &[&str]) -> Output {
        run(
            Command::new(box_runc())
                .arg("--root")
                .arg(&self.root)
                .args(args),
            LIMIT,
        )
    }

    pub(crate) fn cgroups_path(&self, id: &str) -> String {
        format!("/{}/{id}", self.scratch.cgroup_parent)
    }

    pub(crate) fn state(&self, id: &str) -> Value {
        let out = self.runc(&["state", id]);
        expect_code(&out, 0);
        serde_json::from_str(&text(&out)).unwrap()
    }

    /// `box-runc create`, its streams in files (the held process keeps them).
    pub(crate) fn runc_create(&self, args: &[&str]) -> Output {
        run_to_files(
            Command::new(box_runc())
                .arg("--root")
                .arg(&self.root)
                .args(args),
            self.dir(),
            LIMIT,
        )
    }

    pub(crate) fn create(&self, id: &str) -> i32 {
        let pid_file = self.dir().join(format!("{id}.pid"));
        let out = self.runc_create(&[
            "create",
            "--bundle",
            self.dir().to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            id,
        ]);
        expect_code(&out, 0);
        std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

pub(crate) fn status_field(pid: i32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

#[test]
fn create_holds_the_process_start_runs_it_kill_and_delete_end_it() {
    let b = Bundle::new("life", |c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "echo started > /started; trap 'echo usr1 > /usr1; exit 3' USR1; while true; do sleep 0.05; done"
        ]);
    });
    let id = "life1";
    let cg = b.cgroups_path(id);
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(b.dir().join("config.json")).unwrap())
            .unwrap();
    config["linux"]["cgroupsPath"] = json!(cg);
    std::fs::write(b.dir().join("config.json"), config.to_string()).unwrap();

    let pid = b.create(id);
    // create returned; its process waits, not yet the command, in the container's cgroup.
    let st = b.state(id);
    assert_eq!(st["status"], "created");
    assert_eq!(st["pid"], pid);
    assert_eq!(st["id"], id);
    assert!(
        !b.scratch.rootfs.join("started").exists(),
        "the command ran before start"
    );
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cgroup.contains(&format!("{cg}\n")), "{cgroup}");
    // Nothing of box-runc stays but the held process, reparented away from it.
    no_box_runc_left(&box_runc(), b.dir(), &[pid]);
    assert_ne!(
        status_field(pid, "PPid"),
        Some(std::process::id().to_string())
    );

    expect_code(&b.runc(&["start", id]), 0);
    wait_for("the command to run", LIMIT, || {
        b.scratch.rootfs.join("started").exists()
    });
    assert_eq!(b.state(id)["status"], "running");
    // A second start is refused: it is not created any more.
    let again = b.runc(&["start", id]);
    assert_ne!(again.status.code(), Some(0));

    expect_code(&b.runc(&["kill", id, "USR1"]), 0);
    wait_for("the trap", LIMIT, || b.scratch.rootfs.join("usr1").exists());
    wait_for("stopped", LIMIT, || b.state(id)["status"] == "stopped");
    assert_eq!(b.state(id)["pid"], 0);

    expect_code(&b.runc(&["delete", id]), 0);
    assert!(!b.root.join(id).exists(), "the state directory is gone");
    assert!(
        b.scratch.cgroup_dirs().iter().all(|d| !d.ends_with(id)),
        "the cgroup is gone: {:?}",
        b.scratch.cgroup_dirs()
    );
    expect_code(&b.runc(&["delete", "--force", id]), 0);
    assert_ne!(b.runc(&["state", id]).status.code(), Some(0));
}

#[test]
fn exec_ps_pause_resume_update_on_a_running_container() {
    let b = Bundle::new("ops", |c| {
        c["process"]["args"] = json!(["sleep", "1000"]);
        c["hostname"] = json!("oci-test");
    });
    let id = "ops1";
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(b.dir().join("config.json")).unwrap())
            .unwrap();
    config["linux"]["cgroupsPath"] = json!(b.cgroups_path(id));
    std::fs::write(b.dir().join("config.json"), config.to_string()).unwrap();
    let pid = b.create(id);
    expect_code(&b.runc(&["start", id]), 0);

    let out = b.runc(&["exec", id, "sh", "-c", "echo in $(hostname); exit 4"]);
    expect_code(&out, 4);
    assert_eq!(text(&out), "in oci-test");
    // An exec joins the container's pid namespace: its PID 1 is the container's command.
    let out = b.runc(&[
        "exec",
        "--env",
        "X=y",
        id,
        "sh",
        "-c",
        "echo $(tr '\\0' ' ' < /proc/1/cmdline); echo $X",
    ]);
    expect_code(&out, 0);
    assert_eq!(text(&out), "sleep 1000\ny");

    let out = b.runc(&["ps", "--format", "json", id]);
    expect_code(&out, 0);
    let pids: Vec<i32> = serde_json::from_str(&text(&out)).unwrap();
    assert_eq!(pids, [pid]);
    // With ps(1)'s options: its header and the container's lines only.
    let out = b.runc(&["ps", id, "--", "-o", "pid,args"]);
    expect_code(&out, 0);
    let lines: Vec<String> = text(&out).lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(lines, ["PID COMMAND", &format!("{pid} sleep 1000")]);

    expect_code(&b.runc(&["pause", id]), 0);
    assert_eq!(b.state(id)["status"], "paused");
    // The kernel's word: v1's freezer, or cgroup2's.
    let frozen = b
        .scratch
        .cgroup_value(id, &["freezer.state", "cgroup.freeze"]);
    assert!(frozen == "FROZEN" || frozen == "1", "{frozen}");
    expect_code(&b.runc(&["resume", id]), 0);
    assert_eq!(b.state(id)["status"], "running");
    let thawed = b
        .scratch
        .cgroup_value(id, &["freezer.state", "cgroup.freeze"]);
    assert!(thawed == "THAWED" || thawed == "0", "{thawed}");

    expect_code(
        &b.runc(&["update", "--memory", "100m", "--pids-limit", "50", id]),
        0,
    );
    let memory = b
        .scratch
        .cgroup_value(id, &["memory.limit_in_bytes", "memory.max"]);
    assert_eq!(memory, "104857600");
    assert_eq!(b.scratch.cgroup_value(id, &["pids.max"]), "50");

    expect_code(&b.runc(&["kill", "--all", id, "KILL"]), 0);
    wait_for("stopped", LIMIT, || b.state(id)["status"] == "stopped");
    expect_code(&b.runc(&["delete", id]), 0);
    assert!(b.scratch.cgroup_dirs().iter().all(|d| !d.ends_with(id)));
}

#[test]
fn what_box_cannot_honour_fails_create_and_leaves_nothing() {
    let b = Bundle::new("refuse", |c| {
        c["linux"]["intelRdt"] = json!({"closID": "x"});
    });
    let out = b.runc_create(&["create", "--bundle", b.dir().to_str().unwrap(), "bad1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("linux.intelRdt"), "{err}");
    assert!(!b.root.join("bad1").exists());
    let out = b.runc(&["--systemd-cgroup", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let out = b.runc(&["list", "--format", "json"]);
    expect_code(&out, 0);
    assert_eq!(text(&out), "[]");
}

#[test]
fn the_console_socket_gets_the_terminal_and_hooks_see_the_state() {
    let b = Bundle::new("tty", |c| {
        c["process"]["terminal"] = json!(true);
        c["process"]["args"] = json!(["sh", "-c", "tty; stty size"]);
        c["process"]["consoleSize"] = json!({"height": 33, "width": 111});
    });
    let id = "tty1";
    let hook_out = b.dir().join("prestart.json");
    let poststop_out = b.dir().join("poststop.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(b.dir().join("config.json")).unwrap())
            .unwrap();
    config["linux"]["cgroupsPath"] = json!(b.cgroups_path(id));
    config["hooks"] = json!({
        "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}", hook_out.display())]}],
        "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}", poststop_out.display())], "timeout": 5}],
    });
    std::fs::write(b.dir().join("config.json"), config.to_string()).unwrap();

    let socket_path = b.dir().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let receiver = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        receive_fd(conn.as_raw_fd())
    });
    let out = b.runc_create(&[
        "create",
        "--bundle",
        b.dir().to_str().unwrap(),
        "--console-socket",
        socket_path.to_str().unwrap(),
        id,
    ]);
    expect_code(&out, 0);
    let master = receiver.join().unwrap();
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&hook_out).unwrap()).unwrap();
    assert_eq!(state["id"], id);
    assert_eq!(state["pid"], b.state(id)["pid"]);

    expect_code(&b.runc(&["start", id]), 0);
    let mut seen = String::new();
    let mut file = std::fs::File::from(master);
    let mut buf = [0u8; 256];
    while !seen.contains("111") {
        match std::io::Read::read(&mut file, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    assert!(seen.contains("/dev/pts/0"), "{seen:?}");
    assert!(seen.contains("33 111"), "the console size: {seen:?}");
    wait_for("stopped", LIMIT, || b.state(id)["status"] == "stopped");
    expect_code(&b.runc(&["delete", id]), 0);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&poststop_out).unwrap()).unwrap();
    assert_eq!(state["status"], "stopped");
}

/// One fd from an SCM_RIGHTS message on `sock`.
fn receive_fd(sock: i32) -> OwnedFd {
    let mut byte = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: byte.len(),
    };
    let mut control = [0u8; 64];
    // SAFETY: msghdr is plain data; every pointer in it points at a live local buffer.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len();
        assert!(libc::recvmsg(sock, &mut msg, 0) > 0, "recvmsg");
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        assert!(!cmsg.is_null() && (*cmsg).cmsg_type == libc::SCM_RIGHTS);
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const i32);
        OwnedFd::from_raw_fd(fd)
    }
}

#[test]
fn preserve_fds_passes_the_callers_fds_and_no_other() {
    let b = Bundle::new("fds", |c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "echo to-three >&3; echo to-four >&4; ls /proc/self/fd"
        ]);
    });
    let three = b.dir().join("three");
    let four = b.dir().join("four");
    let files = [
        std::fs::File::create(&three).unwrap(),
        std::fs::File::create(&four).unwrap(),
    ];
    let raw = [files[0].as_raw_fd(), files[1].as_raw_fd()];
    let with_fds = |count: &str| {
        let mut cmd = Command::new(box_runc());
        cmd.arg("--root").arg(&b.root).args([
            "run",
            "--bundle",
            b.dir().to_str().unwrap(),
            "--preserve-fds",
            count,
            &format!("fds{count}"),
        ]);
        // SAFETY: between fork and exec only fcntl and dup2, which are async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                // Out of the way first (a file may already be 3 or 4), then into place; dup2's
                // copy is not close-on-exec.
                let mut high = [0; 2];
                for (i, fd) in raw.iter().enumerate() {
                    high[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 100);
                    if high[i] < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (i, fd) in high.iter().enumerate() {
                    if libc::dup2(*fd, 3 + i as i32) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        run(&mut cmd, LIMIT)
    };
    let out = with_fds("2");
    expect_code(&out, 0);
    assert_eq!(std::fs::read_to_string(&three).unwrap(), "to-three\n");
    assert_eq!(std::fs::read_to_string(&four).unwrap(), "to-four\n");
    // ls's own: stdio, the two passed on, and the directory it reads; nothing of box's.
    let listed = text(&out);
    let fds: Vec<&str> = listed.split_whitespace().collect();
    assert_eq!(fds[..5], ["0", "1", "2", "3", "4"], "{fds:?}");
    assert_eq!(fds.len(), 6, "{fds:?}");

    // Asking for more than the caller has open is refused before anything is made.
    let out = with_fds("3");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fd 5 is not open"), "{err}");
    assert!(!b.root.join("fds3").exists());
    assert!(b.scratch.cgroup_dirs().iter().all(|d| !d.ends_with("fds")));
}

#[test]
fn start_container_hooks_run_inside_the_container_before_its_command() {
    let b = Bundle::new("hooks", |c| {
        c["hostname"] = json!("hooked");
        c["process"]["args"] = json!(["sh", "-c", "cat /hook-host > /seen-by-command"]);
    });
    let write_config = |hooks: Value, id: &str| {
        let path = b.dir().join("config.json");
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config["hooks"] = hooks;
        config["linux"]["cgroupsPath"] = json!(b.cgroups_path(id));
        std::fs::write(&path, config.to_string()).unwrap();
    };
    // Its path and its files are the container's: /bin/sh of the busybox root, / its root.
    write_config(
        json!({"startContainer": [{
            "path": "/bin/sh",
            "args": ["sh", "-c", "cat > /hook-state; hostname > /hook-host"],
            "timeout": 30
        }]}),
        "hook1",
    );
    let pid = b.create("hook1");
    assert!(
        !b.scratch.rootfs.join("hook-host").exists(),
        "ran before start"
    );
    expect_code(&b.runc(&["start", "hook1"]), 0);
    wait_for("the command", LIMIT, || {
        b.scratch.rootfs.join("seen-by-command").exists()
    });
    // The command saw what the hook wrote, in the container's uts namespace.
    wait_for("the command's write", LIMIT, || {
        std::fs::read_to_string(b.scratch.rootfs.join("seen-by-command")).unwrap() == "hooked\n"
    });
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(b.scratch.rootfs.join("hook-state")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["id"], "hook1");
    assert_eq!(state["pid"], pid);
    wait_for("stopped", LIMIT, || b.state("hook1")["status"] == "stopped");
    expect_code(&b.runc(&["delete", "hook1"]), 0);

    // A failing hook fails start, and the command never runs.
    std::fs::remove_file(b.scratch.rootfs.join("seen-by-command")).unwrap();
    write_config(json!({"startContainer": [{"path": "/bin/false"}]}), "hook2");
    let pid = b.create("hook2");
    let out = b.runc(&["start", "hook2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("startContainer hook /bin/false"));
    wait_for("the held process to die", LIMIT, || {
        std::fs::metadata(format!("/proc/{pid}")).is_err()
    });
    assert!(!b.scratch.rootfs.join("seen-by-command").exists());
    expect_code(&b.runc(&["delete", "hook2"]), 0);

    // One past its timeout is killed, and fails start.
    write_config(
        json!({"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "1000"], "timeout": 1}]}),
        "hook3",
    );
    b.create("hook3");
    let out = b.runc(&["start", "hook3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timed out"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    expect_code(&b.runc(&["delete", "hook3"]), 0);
    assert!(b.scratch.cgroup_dirs().iter().all(|d| !d
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("hook")));
}

#[test]
fn run_waits_passes_on_its_signals_and_deletes() {
    let b = Bundle::new("run", |c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "trap 'exit 9' TERM; touch /running; while true; do sleep 0.05; done"
        ]);
    });
    let mut runner = Command::new(box_runc())
        .arg("--root")
        .arg(&b.root)
        .args(["run", "--bundle", b.dir().to_str().unwrap(), "run1"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the command", LIMIT, || {
        b.scratch.rootfs.join("running").exists()
    });
    assert_eq!(b.state("run1")["status"], "running");
    // SIGTERM to box-runc reaches the container's trap; run exits with its code, deleted.
    // SAFETY: kill takes a pid and a signal.
    unsafe { libc::kill(runner.id() as i32, libc::SIGTERM) };
    let status = runner.wait().unwrap();
    assert_eq!(status.code(), Some(9));
    assert!(!b.root.join("run1").exists(), "run deleted the container");
    assert!(b.scratch.cgroup_dirs().iter().all(|d| !d.ends_with("run")));
}
