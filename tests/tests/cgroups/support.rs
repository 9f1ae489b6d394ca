//! Helpers of the cgroup end-to-end tests: where the kernel shows a container's cgroup files,
//! a container running in the background until the test is done with it, and `box` itself.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use box_tests::{box_bin, ok, stderr, stdout, Case};

/// The container's directory for `controller` and whether it is a v1 one.
pub(crate) struct Knobs {
    pub(crate) dir: PathBuf,
    pub(crate) v1: bool,
}

impl Knobs {
    /// Where `controller`'s files of container `name` are: its v1 hierarchy, else the
    /// cgroup2 tree when that offers the controller.
    pub(crate) fn of(name: &str, controller: &str) -> Knobs {
        let mut v2 = None;
        for m in box_tests::mounts() {
            match m.fstype.as_str() {
                "cgroup" if m.super_options.split(',').any(|o| o == controller) => {
                    let dir = m.mount_point.join("box").join(name);
                    return Knobs { dir, v1: true };
                }
                "cgroup2" => v2 = Some(m.mount_point),
                _ => {}
            }
        }
        let root = v2.expect("a cgroup hierarchy");
        let offered = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
        assert!(
            offered.split_whitespace().any(|c| c == controller),
            "this host has no {controller} controller"
        );
        let dir = root.join("box").join(name);
        Knobs { dir, v1: false }
    }

    /// `file` (its v1 name, or its v2 name), trimmed.
    pub(crate) fn read(&self, v1_file: &str, v2_file: &str) -> String {
        let file = if self.v1 { v1_file } else { v2_file };
        let path = self.dir.join(file);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// A counter of a flat keyed file such as `cpu.stat` or `pids.events`.
    pub(crate) fn counter(&self, file: &str, key: &str) -> u64 {
        self.read(file, file)
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {file}"))
    }
}

/// A container whose command waits for `data/done`: `box up` running in the background,
/// with `data/` bind-mounted at `/data`. Dropping it ends the container (and, if it
/// will not end, kills box).
pub(crate) struct Background {
    pub(crate) case: Case,
    child: Option<Child>,
}

/// box.toml: `command` run by sh, `[resources]` = `resources`, and `data/` at `/data`.
pub(crate) fn case(prefix: &str, command: &str, resources: &str) -> Case {
    let body = format!(
        "command = [\"/bin/sh\", \"-c\", '{command}']\n[resources]\n{resources}\n\
         [[mounts]]\ntype = \"bind\"\nsource = \"data\"\ntarget = \"/data\"\n"
    );
    let case = Case::new(prefix, &body);
    std::fs::create_dir(case.path("data")).expect("create data/");
    case
}

/// A shell holding 64 MiB of 'a' in a variable, then saying it survived.
pub(crate) const HOLDS_64M: &str = r#"x=$(head -c 67108864 /dev/zero | tr "\0" a); echo survived"#;

/// `out` is box's for a container whose command the OOM killer ended: exit 137, box's OOM
/// message, and nothing said after the allocation.
pub(crate) fn assert_oom_killed(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(137), "stderr: {}", stderr(out));
    assert!(stderr(out).contains("OOM"), "stderr: {}", stderr(out));
    assert!(!stdout(out).contains("survived"));
}

/// The usual command: say it is ready, `work`, until the test creates `/data/done`.
pub(crate) const UNTIL_DONE: &str =
    "touch /data/ready; while [ ! -e /data/done ]; do sleep 0.02; done";

impl Background {
    pub(crate) fn start(case: Case) -> Background {
        let child = case
            .command(&["up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start box up");
        let bg = Background {
            case,
            child: Some(child),
        };
        let ready = bg.case.path("data/ready");
        if !wait_until(Duration::from_secs(10), || ready.exists()) {
            panic!("the container never got ready");
        }
        bg
    }

    pub(crate) fn name(&self) -> &str {
        &self.case.name
    }

    /// Tell the command to end; box's output once it is gone.
    pub(crate) fn finish(&mut self) -> std::process::Output {
        std::fs::write(self.case.path("data/done"), "").expect("create data/done");
        let child = self.child.take().expect("box still running");
        child.wait_with_output().expect("wait for box")
    }

    /// SIGKILL box (not the container: it must die of box's death).
    pub(crate) fn kill_box(&mut self) {
        let mut child = self.child.take().expect("box still running");
        // SAFETY: kill only sends a signal to the box process this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // A test that failed half-way: end the container so nothing is left behind.
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = std::fs::write(self.case.path("data/done"), "");
        let end = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

pub(crate) fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A cgroup sweep happens at every `box up`: run one that does nothing.
pub(crate) fn sweep() {
    let case = Case::new("cg-sweeper", r#"command = ["/bin/true"]"#);
    ok(&case.up());
    case.assert_nothing_left();
}

/// `box ARGS...` with stdin closed.
pub(crate) fn run_box(args: &[&str]) -> std::process::Output {
    std::process::Command::new(box_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run box")
}

/// Every value replaced, keys kept: what a script may rely on.
pub(crate) fn redacted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, redacted(v))).collect())
        }
        _ => Value::String("[value]".into()),
    }
}
