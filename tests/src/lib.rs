//! Helpers for box's end-to-end tests: they run the real `box` binary as root and look at what
//! the kernel reports, inside the container and on the host afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

mod mounts;
pub mod oci;
pub mod registry;
pub use box_cgroup::mountinfo::{self, Mount};
pub use mounts::HostMounts;

/// The `box` binary under test: `$BOX_BIN`, or the one cargo built next to this test binary
/// (`cargo test --workspace` builds it, since box-cli has integration tests of its own).
pub fn box_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("BOX_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join("box");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace` or `cargo xtask e2e`",
        bin.display()
    );
    bin
}

/// End-to-end tests need root: namespaces, mounts and cgroups are root's business.
pub fn require_root() {
    assert!(
        nix_is_root(),
        "box's end-to-end tests run as root (they create namespaces, mounts and cgroups)"
    );
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Makes `cmd` (box) start without CAP_SYS_RESOURCE in its bounding set, so that no set of
/// box's holds it after execve: as on a host whose bounding set lacks it (box's CI machine),
/// on any host. Needs root, as every end-to-end test.
pub fn without_sys_resource(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    const CAP_SYS_RESOURCE: libc::c_ulong = 24;
    // SAFETY: between fork and exec only prctl runs, an async-signal-safe syscall.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
    }
}

/// A unique container name per test, so tests can run in parallel.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("t-{prefix}-{}-{n}", std::process::id())
}

/// A box.toml in its own temporary directory.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Case {
    /// A case named after `prefix` whose box.toml is `name = "<unique>"` followed by `body`.
    pub fn new(prefix: &str, body: &str) -> Case {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix("boxtest-")
            .tempdir()
            .expect("create a temporary directory");
        let name = unique_name(prefix);
        let text = format!("name = \"{name}\"\n{body}");
        std::fs::write(dir.path().join("box.toml"), text).expect("write box.toml");
        Case { dir, name }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.path().join("box.toml")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `box up box.toml`, stdin closed; returns once the container is gone.
    pub fn up(&self) -> Output {
        self.command(&["up"]).output().expect("run box up")
    }

    /// `box ARGS... box.toml`, ready to spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(box_bin());
        cmd.args(args).arg(self.file()).stdin(Stdio::null());
        cmd
    }

    /// `box rm NAME` of this case's container (say, one whose box was killed); asserts it
    /// worked.
    pub fn rm(&self) {
        let out = Command::new(box_bin())
            .args(["rm", &self.name])
            .output()
            .expect("run box rm");
        ok(&out);
    }

    /// Asserts that nothing of this container is left on the host: no state, no cgroup
    /// directory in any hierarchy, no mount under the test's directory.
    pub fn assert_nothing_left(&self) {
        let state = state_root().join(&self.name);
        assert!(!state.exists(), "state {} left behind", state.display());
        for dir in cgroup_dirs(&self.name) {
            assert!(!dir.exists(), "cgroup {} left behind", dir.display());
        }
        let ours = self.dir.path();
        let left: Vec<Mount> = mounts()
            .into_iter()
            .filter(|m| m.mount_point.starts_with(ours) || m.root.starts_with(ours))
            .collect();
        assert!(
            left.is_empty(),
            "mounts under {} left behind:\n{left:#?}",
            ours.display()
        );
    }
}

/// Where `box` keeps container state when no `--root` is given.
pub fn state_root() -> PathBuf {
    std::env::var_os("BOX_ROOT").map_or_else(|| PathBuf::from("/run/box"), PathBuf::from)
}

/// This thread's mount table, as the cgroup crate's mountinfo reader parses it (the one
/// reader of the workspace).
pub fn mounts() -> Vec<Mount> {
    let text = mountinfo::read().expect("read mountinfo");
    mountinfo::parse(&text).expect("parse mountinfo")
}

/// The mount points of every cgroup hierarchy (v1 and v2), each mount of them (those mounted
/// over too), in mountinfo's order.
pub fn cgroup_mounts() -> Vec<PathBuf> {
    mounts()
        .into_iter()
        .filter(|m| matches!(m.fstype.as_str(), "cgroup" | "cgroup2"))
        .map(|m| m.mount_point)
        .collect()
}

/// Every place a container's cgroup may be: `box/<name>` under each hierarchy's root.
pub fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .map(|mount| mount.join("box").join(name))
        .collect()
}

/// Runs the shell command line `line` under script(1), which gives it a real terminal as a
/// person's shell would, types `typed` into that terminal, and returns what it printed.
pub fn on_a_terminal(line: &str, typed: &[u8]) -> Output {
    let mut script = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdin = script.stdin.take().expect("script's stdin");
    stdin.write_all(typed).expect("type into the terminal");
    let out = script.wait_with_output().expect("wait for script");
    drop(stdin);
    out
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a zero exit and returns stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "box failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// A minimal root filesystem under `dir/rootfs`: one static busybox, its applets as links, and
/// just enough of `/etc`. Shared with `cargo xtask rootfs`.
pub fn busybox_rootfs_at(root: &Path) -> std::io::Result<PathBuf> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "busybox is missing: `cargo xtask test` installs Debian's busybox-static",
            )
        })?;
    for sub in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    std::fs::copy(busybox, root.join("bin/busybox"))?;
    let applets = Command::new(busybox).arg("--list").output()?;
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        let link = root.join("bin").join(applet);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink("busybox", &link)?;
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    std::fs::write(root.join("etc/group"), "root:x:0:\n")?;
    std::fs::write(root.join("etc/marker"), "inside the busybox root\n")?;
    Ok(root.to_path_buf())
}

/// [`busybox_rootfs_at`] `dir/rootfs`, for a test.
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    busybox_rootfs_at(&dir.join("rootfs")).expect("build a busybox root filesystem")
}

/// The (device, inode) of a namespace file, as `stat` sees it.
pub fn ns_id(path: &str) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).expect("stat namespace");
    (meta.dev(), meta.ino())
}

/// Parses `KIND ino` lines as the tests' containers print them (`stat -L -c '%n %i'`).
pub fn parse_ns_lines(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let (k, ino) = l.rsplit_once(' ')?;
            Some((k.rsplit('/').next()?.to_string(), ino.trim().parse().ok()?))
        })
        .collect()
}

/// A `--root` of its own for detached containers; on drop it removes every container in it
/// and checks that nothing is left.
pub struct StateRoot {
    pub dir: tempfile::TempDir,
    pub names: Vec<String>,
}

impl Default for StateRoot {
    fn default() -> Self {
        StateRoot::new()
    }
}

impl StateRoot {
    pub fn new() -> StateRoot {
        let dir = tempfile::Builder::new()
            .prefix("boxroot-")
            .tempdir()
            .expect("create a state root");
        StateRoot {
            dir,
            names: Vec::new(),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(box_bin());
        cmd.arg("--root")
            .arg(self.dir.path())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run box")
    }

    /// `box up -d` of a case; asserts it printed the name.
    pub fn up(&mut self, case: &Case) -> String {
        let file = case.file();
        let out = self.run(&["up", "-d", file.to_str().expect("utf-8 path")]);
        assert_eq!(ok(&out), format!("{}\n", case.name));
        self.names.push(case.name.clone());
        case.name.clone()
    }

    pub fn pid(&self, name: &str) -> i32 {
        let out = ok(&self.run(&["inspect", "--format", "{{.State.Pid}}", name]));
        out.trim().parse().expect("a pid")
    }

    pub fn field(&self, name: &str, template: &str) -> String {
        ok(&self.run(&["inspect", "--format", template, name]))
            .trim()
            .to_string()
    }
}

impl Drop for StateRoot {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self.run(&["rm", "-f", name]);
        }
        if std::thread::panicking() {
            return;
        }
        let left: Vec<_> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "state left behind: {left:?}");
        for name in &self.names {
            for dir in cgroup_dirs(name) {
                assert!(!dir.exists(), "cgroup {} left behind", dir.display());
            }
        }
    }
}

/// Copies the shared libraries `binary` needs (as `ldd` lists them, the loader included) into
/// `root` at the same paths, so that a dynamically linked test program such as `box-probe`
/// runs in a busybox root.
pub fn copy_libraries(binary: &Path, root: &Path) {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("run ldd (Debian's libc-bin)");
    assert!(
        out.status.success(),
        "ldd {}: {}",
        binary.display(),
        stderr(&out)
    );
    for lib in stdout(&out).lines().filter_map(|line| {
        let path = line.split("=>").last()?.split_whitespace().next()?;
        path.starts_with('/').then(|| PathBuf::from(path))
    }) {
        let to = root.join(lib.strip_prefix("/").expect("an absolute path"));
        std::fs::create_dir_all(to.parent().expect("a file in a directory")).unwrap();
        std::fs::copy(&lib, &to).unwrap_or_else(|e| panic!("copy {}: {e}", lib.display()));
    }
}
