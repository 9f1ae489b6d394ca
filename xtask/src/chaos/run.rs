//! The chaos run's world: box's binary, a busybox root, a state root, and box commands with a
//! time limit (a hung command is a failure, not a hung run).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How long one box command may take before it counts as hung (stop waits up to its -t).
pub const COMMAND_LIMIT: Duration = Duration::from_secs(60);

pub struct Env {
    pub box_bin: PathBuf,
    /// Removed when the run ends.
    pub work: tempfile::TempDir,
    pub state: PathBuf,
    pub rootfs: PathBuf,
    /// In every name and in every container's environment (`CHAOS=<token>`), to find what
    /// this run left behind.
    pub token: String,
}

/// How a box command ended.
#[derive(Debug)]
pub struct Ran {
    /// None: killed by a signal, or hung and killed after [`COMMAND_LIMIT`].
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub hung: bool,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// One line for a failure report.
    pub fn describe(&self, what: &str) -> String {
        let why = if self.hung {
            format!("hung for {}s", COMMAND_LIMIT.as_secs())
        } else {
            format!("exit {:?}", self.code)
        };
        format!("{what}: {why}: {}", self.stderr.trim().replace('\n', " | "))
    }
}

impl Env {
    pub fn new(box_bin: PathBuf) -> Result<Env> {
        let work = tempfile::Builder::new()
            .prefix("box-chaos-")
            .tempdir()
            .context("create the chaos work directory")?;
        let state = work.path().join("state");
        std::fs::create_dir(&state).context("create the state root")?;
        let rootfs = box_tests::busybox_rootfs_at(&work.path().join("rootfs"))
            .context("build the busybox root filesystem")?;
        let token = format!("c{}", std::process::id());
        Ok(Env {
            box_bin,
            work,
            state,
            rootfs,
            token,
        })
    }

    /// A unique container name of this run.
    pub fn name(&self, phase: &str, i: usize) -> String {
        format!("chaos-{}-{phase}{i}", self.token)
    }

    /// Writes `NAME.toml` running `command` on the busybox root; returns its path.
    pub fn file(&self, name: &str, command: &[&str]) -> Result<PathBuf> {
        let quoted: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
        let text = format!(
            "name = {name:?}\nrootfs = {:?}\ncommand = [{}]\nenv = {{ CHAOS = {:?} }}\n",
            self.rootfs.display().to_string(),
            quoted.join(", "),
            super::check::tag(self, name)
        );
        let path = self.work.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// `box --root STATE ARGS...`, started.
    pub fn spawn(&self, root: &Path, args: &[&str]) -> Result<Child> {
        Command::new(&self.box_bin)
            .arg("--root")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("run box {}", args.join(" ")))
    }

    /// `box --root STATE ARGS...`, waited for (at most [`COMMAND_LIMIT`]).
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_in(&self.state, args)
    }

    pub fn run_in(&self, root: &Path, args: &[&str]) -> Ran {
        match self.spawn(root, args) {
            Ok(child) => finish(child),
            Err(e) => Ran {
                code: None,
                stdout: String::new(),
                stderr: format!("{e:#}"),
                hung: false,
            },
        }
    }

    /// Best effort: whatever the phases left is removed so the machine stays clean, after
    /// the leftovers were counted.
    pub fn cleanup(&self) {
        for root in [self.state.clone(), self.work.path().join("full")] {
            let names = std::fs::read_dir(&root)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            for name in names {
                let _ = self.run_in(&root, &["rm", "-f", &name]);
            }
        }
        super::check::kill_strays(self);
        let full = self.work.path().join("full");
        // Unmount when it is mounted, or when that cannot be told.
        if mount_table().map_or(true, |t| t.iter().any(|m| m.mount_point == full)) {
            let _ = nix_umount(&full);
        }
    }
}

/// This thread's mounts, by the cgroup crate's mountinfo reader.
pub fn mount_table() -> Result<Vec<box_cgroup::mountinfo::Mount>, box_cgroup::Error> {
    use box_cgroup::mountinfo;
    mountinfo::read().and_then(|text| mountinfo::parse(&text))
}

/// Waits for a started box command, killing it after [`COMMAND_LIMIT`].
pub fn finish(mut child: Child) -> Ran {
    let started = Instant::now();
    let mut hung = false;
    // Pipes are drained after exit: box's output is a few lines, far below a pipe's buffer.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > COMMAND_LIMIT => {
                hung = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Ran {
        code: status.and_then(|s| s.code()).filter(|_| !hung),
        stdout,
        stderr,
        hung,
    }
}

/// `umount -l`, for the full-disk phase's tmpfs.
pub fn nix_umount(path: &Path) -> std::io::Result<()> {
    let status = Command::new("umount").arg("-l").arg(path).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("umount {status}")))
    }
}
