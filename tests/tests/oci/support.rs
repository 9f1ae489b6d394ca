//! What the OCI tests share: the box-runc binary, a scratch directory with a busybox root and
//! its tarball, engines started by the test and stopped by a guard, and the cgroup subtree
//! each test points its engine at (checked empty, then removed).

#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use box_tests::{box_bin, busybox_rootfs_at, require_root, unique_name};

/// The box-runc binary next to box (`cargo xtask test` and `cargo xtask e2e` build both; a
/// plain `cargo test` builds only box).
pub fn box_runc() -> PathBuf {
    let bin = box_bin().with_file_name("box-runc");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p box-oci` (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// A directory of the test's own, a busybox root in it, and the cgroup subtree
/// (`box/<name>`) its containers go below.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub rootfs: PathBuf,
    /// `box/oci-…`: relative to each hierarchy's root.
    pub cgroup_parent: String,
}

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("box-oci-{what}-"))
            .tempdir_in("/tmp")
            .unwrap();
        let rootfs = busybox_rootfs_at(&dir.path().join("rootfs")).unwrap();
        Scratch {
            cgroup_parent: format!("box/{}", unique_name(&format!("oci-{what}"))),
            dir,
            rootfs,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The root as a tar file, for `import`.
    pub fn rootfs_tar(&self) -> PathBuf {
        let tar = self.path("rootfs.tar");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&self.rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(ok.success(), "tar the busybox root");
        tar
    }

    /// Every directory of the test's cgroup subtree, on every hierarchy.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for root in hierarchy_roots() {
            let top = root.join(&self.cgroup_parent);
            if top.is_dir() {
                collect_dirs(&top, &mut found);
            }
        }
        found
    }

    /// The first of the files `names` (v1's name, then cgroup2's) that the cgroup `rel`
    /// (below the test's parent) has on some hierarchy, as the kernel reads it.
    pub fn cgroup_value(&self, rel: &str, names: &[&str]) -> String {
        for name in names {
            for root in hierarchy_roots() {
                let file = root.join(&self.cgroup_parent).join(rel).join(name);
                if let Ok(text) = std::fs::read_to_string(&file) {
                    return text.trim().to_string();
                }
            }
        }
        panic!("no hierarchy has {}/{rel}/{names:?}", self.cgroup_parent);
    }
}

impl Drop for Scratch {
    /// Removes the test's cgroup subtree (deepest first) and any mount left below the
    /// directory, so that a failed test leaves nothing behind either.
    fn drop(&mut self) {
        let mut dirs = self.cgroup_dirs();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        // What a failed test left running in its own subtree (a held container ignores
        // everything but SIGKILL) goes first: a cgroup with processes cannot be removed.
        for _ in 0..100 {
            let mut alive = false;
            for d in &dirs {
                let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|p| p.parse::<i32>().ok()) {
                    alive = true;
                    // SAFETY: kill takes a pid and a signal; no memory is involved.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            if !alive {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for d in dirs {
            let _ = std::fs::remove_dir(d);
        }
        unmount_below(self.dir.path());
    }
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_dirs(&entry.path(), out);
        }
    }
}

/// `/sys/fs/cgroup/<controller>` and the unified hierarchy (or `/sys/fs/cgroup` on v2).
pub fn hierarchy_roots() -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// Lazily unmounts whatever an engine left mounted below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").arg("-l").arg(p).status();
    }
}

/// Mounts below `dir` now.
pub fn mounts_below(dir: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .map(String::from)
        .collect()
}

/// A daemon the test started (in its own process group): SIGTERM, then SIGKILL, on drop.
pub struct Daemon {
    pub child: Child,
    pub name: &'static str,
}

impl Daemon {
    pub fn start(name: &'static str, cmd: &mut Command, log: &Path) -> Daemon {
        let log = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e} (cargo xtask test installs it)"));
        Daemon { child, name }
    }

    /// Fails the test, showing the daemon's log, when it has exited.
    #[track_caller]
    pub fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}): {}",
                self.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }

    /// Stops it and waits, bounded; what it started in its process group goes too.
    pub fn stop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: kill takes a process group id and a signal; no memory is involved.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Runs `cmd`, bounded by `limit`: a hung engine fails the test instead of hanging it.
pub fn run(cmd: &mut Command, limit: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let pid = child.id() as i32;
    let watchdog = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(100));
            // SAFETY: signal 0 only checks that the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: kill takes a pid and a signal.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    drop(watchdog);
    out
}

/// [`run`] for a command that leaves a process behind with its stdio (`create`, whose held
/// process is the container's, stdio and all): its streams go to files in `dir`, read once
/// the command exits, so that the test does not wait for the container's end to see EOF.
pub fn run_to_files(cmd: &mut Command, dir: &Path, limit: Duration) -> Output {
    let (out_path, err_path) = (dir.join("create.stdout"), dir.join("create.stderr"));
    let out_file = std::fs::File::create(&out_path).unwrap();
    let err_file = std::fs::File::create(&err_path).unwrap();
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// Polls `check` until it holds, for at most `limit`.
pub fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `output`'s stdout, trimmed.
pub fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Asserts `out` exited with `code`, showing both streams otherwise.
#[track_caller]
pub fn expect_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No process whose executable is box-runc and whose command line names the test's
/// directory `dir` is left (none stays behind in the OCI mode) but the created containers'
/// `held` processes, box-runc's image until they exec.
pub fn no_box_runc_left(runc: &Path, dir: &Path, held: &[i32]) {
    let runc = runc.canonicalize().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if held
            .iter()
            .any(|pid| entry.file_name().to_str() == Some(&pid.to_string()))
        {
            continue;
        }
        let exe = std::fs::read_link(entry.path().join("exe"));
        if exe.is_ok_and(|e| e == runc) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            // Another test's box-runc may be running right now; ours name our directory.
            assert!(
                !cmdline.contains(&*dir.to_string_lossy()),
                "a box-runc process is left: {cmdline}"
            );
        }
    }
}

/// Asserts that `pid`'s parent is a containerd shim (containerd and Docker run box-runc through
/// `containerd-shim-runc-v2`, which adopts the container's PID 1 once box-runc exits).
pub fn assert_adopted_by_a_shim(pid: i32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    let shim = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert!(
        shim.to_string_lossy().contains("containerd-shim"),
        "not adopted by a shim: {pid}'s parent is {}",
        shim.display()
    );
}
