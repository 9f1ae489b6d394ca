//! What the state tests share: box commands that may not hang, processes and cgroups as the
//! kernel shows them, a start caught (and held) in `created`, and small full file systems.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use box_tests::{cgroup_dirs, Case, StateRoot as Root};

pub const SLEEP: &str = r#"command = ["/bin/sleep", "1000"]"#;

/// How long one box command may take before the test calls it hung.
const HUNG: Duration = Duration::from_secs(60);

/// Waits for a started box command, killing it if it hangs (then the test fails, naming it).
pub fn finish(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait for box").is_none() {
        if start.elapsed() > HUNG {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect box's output");
            panic!("{what} hung: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("collect box's output")
}

/// `box --root ROOT ARGS...`, started with its output piped.
pub fn spawn(root: &Root, args: &[&str]) -> Child {
    root.cmd(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run box")
}

/// `box --root ROOT ARGS...` that must not hang.
pub fn run(root: &Root, args: &[&str]) -> Output {
    finish(spawn(root, args), &format!("box {}", args.join(" ")))
}

/// `box up -d` of the case, started (not waited for).
pub fn spawn_up(root: &Root, case: &Case) -> Child {
    spawn(
        root,
        &["up", "-d", case.file().to_str().expect("utf-8 path")],
    )
}

/// Whether the process is gone (a zombie is: it runs nothing any more).
pub fn gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| r.trim().starts_with(['Z', 'X']))
    })
}

/// The processes in the container's cgroup, on any hierarchy.
pub fn cgroup_procs(name: &str) -> Vec<i32> {
    let mut pids: Vec<i32> = cgroup_dirs(name)
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Asserts that nothing of the container is left: no state directory, no cgroup, no process.
pub fn assert_gone(root: &Root, name: &str) {
    let dir = root.dir.path().join(name);
    assert!(!dir.exists(), "state {} left", dir.display());
    for cg in cgroup_dirs(name) {
        assert!(!cg.exists(), "cgroup {} left", cg.display());
    }
}

/// The container's record as box wrote it, if it is readable.
pub fn record(root: &Root, name: &str) -> Option<serde_json::Value> {
    let text = std::fs::read(root.dir.path().join(name).join("state.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

pub fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill(2) with a pid of a process this test started through box.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

/// A `box up -d` whose monitor is stopped (SIGSTOP) while the container is `created`: the
/// name is claimed, the container not yet started. `box up -d` itself is stopped the moment
/// the claim appears, so the record looked at is the claim's own, before anything else
/// could write to it; then the monitor it names is stopped under the lock (between two
/// records, not in the middle of one).
pub struct Frozen {
    pub up: Child,
    pub monitor: i32,
}

impl Frozen {
    pub fn new(root: &Root, case: &Case) -> Frozen {
        let dir = root.dir.path().join(&case.name);
        for _ in 0..50 {
            let up = spawn_up(root, case);
            let up_pid = up.id() as i32;
            let mut up = Some(up);
            while !dir.join("state.json").exists() {
                if up
                    .as_mut()
                    .is_some_and(|c| c.try_wait().ok().flatten().is_some())
                {
                    panic!("box up -d ended before its claim was seen");
                }
            }
            signal(up_pid, libc::SIGSTOP);
            let lock = wait_for_lock(&dir.join("lock"));
            let state = record(root, &case.name).expect("the claim's record");
            if state["recorded"] == "created" {
                let Some(monitor) = state["monitor"]["pid"].as_i64() else {
                    panic!("the claim names no monitor, so ps calls a starting container dead: {state}");
                };
                signal(monitor as i32, libc::SIGSTOP);
                drop(lock);
                signal(up_pid, libc::SIGCONT);
                return Frozen {
                    up: up.take().expect("the box up child"),
                    monitor: monitor as i32,
                };
            }
            // It ran before it could be caught: try again.
            drop(lock);
            signal(up_pid, libc::SIGCONT);
            finish(up.take().expect("the box up child"), "box up -d");
            let out = run(root, &["rm", "-f", &case.name]);
            assert!(out.status.success(), "{out:?}");
        }
        panic!(
            "no start of {} was caught in `created` in 50 tries",
            case.name
        )
    }

    /// Lets the monitor go on.
    pub fn thaw(&self) {
        signal(self.monitor, libc::SIGCONT);
    }
}

/// The lock of a container's directory, held; or, if a stopped process holds it for a whole
/// second, nothing (the record is read without it then).
fn wait_for_lock(path: &std::path::Path) -> Option<File> {
    let start = Instant::now();
    let lock = File::options().read(true).write(true).open(path).ok()?;
    // SAFETY: flock on an fd this function owns.
    while unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        if start.elapsed() > Duration::from_secs(1) {
            return None;
        }
    }
    Some(lock)
}

/// A tmpfs of `size` mounted for a test, unmounted when dropped.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn new(size: &str) -> Tmpfs {
        let dir = tempfile::Builder::new()
            .prefix("boxstate-")
            .tempdir()
            .expect("create a mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=700"),
                "boxtest",
            ])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs: {status}");
        Tmpfs { dir }
    }

    /// Writes a file until the file system is full; its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut file = File::create(&path).expect("create the filler");
        let block = [0u8; 4096];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0u8]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A state root in a directory of `fs` (drop it before `fs`).
pub fn root_on(fs: &Tmpfs) -> Root {
    let dir = tempfile::Builder::new()
        .prefix("root-")
        .tempdir_in(fs.dir.path())
        .expect("a state root on the tmpfs");
    Root {
        dir,
        names: Vec::new(),
    }
}
