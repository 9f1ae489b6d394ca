//! Sleeping containers of one runtime, in the background: `box up -d` (each with its own name,
//! one state root) or `RUNTIME run -d` (each with its own bundle and id); removed with
//! `box rm -f` / `RUNTIME delete -f`; and a look at what each left behind.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::bundle::{self, VARIANTS};
use super::cases::BOX_UNCONFINED;
use super::prepare::Env;
use super::spawn;

/// The workload: long enough to outlive any phase, short enough to end by itself if the bench
/// is killed.
pub const SLEEP: [&str; 2] = ["/bin/sleep", "300"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Who {
    Box,
    /// `env.runtimes[i]`.
    Oci(usize),
}

/// One command line, and the mount namespace to run it in.
pub type Argv = (Vec<OsString>, Option<i32>);

pub struct Fleet<'a> {
    env: &'a Env,
    pub who: Who,
    /// Container names (box) or ids (OCI).
    pub ids: Vec<String>,
    /// box.toml files or bundle directories, one per container.
    files: Vec<PathBuf>,
}

/// box's state root for the bench: under /run like box's default (/run/box) and runc's and
/// crun's state (/run/runc, /run/crun), so every runtime writes its state to the same file
/// system; its own directory, so the bench sees and removes only its containers.
pub fn box_root() -> PathBuf {
    PathBuf::from(format!("/run/box-bench-{}", std::process::id()))
}

/// Every runtime that can run detached: box first, then the OCI runtimes.
pub fn everyone(env: &Env) -> Vec<Who> {
    std::iter::once(Who::Box)
        .chain((0..env.runtimes.len()).map(Who::Oci))
        .collect()
}

pub fn label(env: &Env, who: Who) -> String {
    match who {
        Who::Box => BOX_UNCONFINED.to_string(),
        Who::Oci(i) => env.runtimes[i].name.to_string(),
    }
}

impl<'a> Fleet<'a> {
    /// Writes the files of `n` containers (base variant, unconfined box, running [`SLEEP`]);
    /// `tag` makes their names unique in this bench.
    pub fn new(env: &'a Env, who: Who, tag: &str, n: usize) -> Result<Fleet<'a>> {
        let dir = env.work.join("detached").join(tag);
        let mut ids = Vec::with_capacity(n);
        let mut files = Vec::with_capacity(n);
        let config = match who {
            Who::Oci(_) => Some(sleeping_config(env)?),
            Who::Box => None,
        };
        for k in 0..n {
            let id = format!("bench-{}-{tag}-{k}", std::process::id());
            let file = match (who, &config) {
                (Who::Oci(i), Some(config)) => {
                    let bundle = dir.join(k.to_string());
                    let parent = env.runtimes[i].cgroup_parent();
                    bundle::write(&bundle, config, &format!("/{parent}/{id}"))?;
                    bundle
                }
                _ => {
                    std::fs::create_dir_all(&dir)?;
                    let toml = dir.join(format!("{k}.toml"));
                    let body =
                        bundle::box_toml_of(&env.rootfs, &VARIANTS[0], true, Some(&id), &SLEEP);
                    std::fs::write(&toml, body)?;
                    toml
                }
            };
            ids.push(id);
            files.push(file);
        }
        Ok(Fleet {
            env,
            who,
            ids,
            files,
        })
    }

    fn box_argv(&self, args: &[&str], last: impl Into<OsString>) -> Argv {
        let mut argv: Vec<OsString> = vec![
            self.env.box_bin.clone().into(),
            "--root".into(),
            box_root().into(),
        ];
        argv.extend(args.iter().map(OsString::from));
        argv.push(last.into());
        (argv, None)
    }

    fn oci_argv(&self, i: usize, args: &[&str], last: impl Into<OsString>) -> Argv {
        let rt = &self.env.runtimes[i];
        let mut argv: Vec<OsString> = vec![rt.bin.clone().into()];
        argv.extend(args.iter().map(OsString::from));
        argv.push(last.into());
        (argv, rt.mntns_fd())
    }

    /// `box up -d FILE` / `RUNTIME run -d --bundle DIR ID`, one per container.
    pub fn start_batch(&self) -> Vec<Argv> {
        self.ids
            .iter()
            .zip(&self.files)
            .map(|(id, file)| match self.who {
                Who::Box => self.box_argv(&["up", "-d"], file),
                Who::Oci(i) => {
                    let bundle = file.to_string_lossy();
                    self.oci_argv(i, &["run", "-d", "--bundle", &bundle], id)
                }
            })
            .collect()
    }

    /// `box rm -f NAME` / `RUNTIME delete -f ID`, one per container.
    pub fn stop_batch(&self) -> Vec<Argv> {
        self.ids
            .iter()
            .map(|id| match self.who {
                Who::Box => self.box_argv(&["rm", "-f"], id),
                Who::Oci(i) => self.oci_argv(i, &["delete", "-f"], id),
            })
            .collect()
    }

    /// How many of the fleet the runtime reports running (`box ps`, `RUNTIME list`).
    pub fn running(&self) -> Result<usize> {
        let (argv, mntns) = match self.who {
            Who::Box => self.box_argv(&["ps", "--format"], "json"),
            Who::Oci(i) => self.oci_argv(i, &["list", "--format"], "json"),
        };
        let out = spawn::command(&argv, mntns)
            .stdout(Stdio::piped())
            .output()
            .with_context(|| format!("run {argv:?}"))?;
        if !out.status.success() {
            bail!("{argv:?} failed ({})", out.status);
        }
        let list: Value = serde_json::from_slice(&out.stdout).context("parse the list")?;
        let (id_key, status_key) = match self.who {
            Who::Box => ("Name", "Status"),
            Who::Oci(_) => ("id", "status"),
        };
        Ok(list
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter(|r| r[status_key] == "running")
                    .filter(|r| self.ids.iter().any(|id| r[id_key] == json!(id)))
                    .count()
            })
            .unwrap_or(0))
    }

    /// What the runtime left of the fleet: state directories and cgroup directories.
    pub fn leftovers(&self) -> Vec<String> {
        let (state_root, cgroup_parent) = match self.who {
            Who::Box => (box_root(), "box".to_string()),
            Who::Oci(i) => {
                let rt = &self.env.runtimes[i];
                (rt.state_root.clone(), rt.cgroup_parent())
            }
        };
        let mut left = Vec::new();
        for id in &self.ids {
            let state = state_root.join(id);
            if state.exists() {
                left.push(format!("state {}", state.display()));
            }
            for mount in &self.env.cgroup_mounts {
                let dir = mount.join(&cgroup_parent).join(id);
                if dir.exists() {
                    left.push(format!("cgroup {}", dir.display()));
                }
            }
        }
        left
    }

    /// Removes whatever is left, after the measured removal (and after a failed start).
    pub fn cleanup(&self) {
        match self.who {
            Who::Box => {
                for (argv, _) in self.stop_batch() {
                    if box_root().join(&argv[argv.len() - 1]).exists() {
                        let _ = Command::new(&argv[0])
                            .args(&argv[1..])
                            .stderr(Stdio::null())
                            .status();
                    }
                }
                for id in &self.ids {
                    for mount in &self.env.cgroup_mounts {
                        let _ = std::fs::remove_dir(mount.join("box").join(id));
                    }
                }
            }
            Who::Oci(i) => {
                for id in &self.ids {
                    self.env.runtimes[i].cleanup(id, &self.env.cgroup_mounts);
                }
            }
        }
        spawn::reap_orphans();
    }
}

/// Runs one command to its end; fails with the last line it printed on stderr. Its stderr goes
/// to the file `errors`, not to a pipe: what it leaves running (a container given the runtime's
/// stdio, a monitor) may hold a pipe open long after it exited.
pub fn run_checked((argv, mntns): &Argv, errors: &Path) -> Result<()> {
    let file =
        std::fs::File::create(errors).with_context(|| format!("create {}", errors.display()))?;
    let mut cmd = spawn::command(argv, *mntns);
    cmd.stderr(file);
    let sample = spawn::timed(&mut cmd)?;
    if sample.code != 0 {
        let text = std::fs::read_to_string(errors).unwrap_or_default();
        let last = text.lines().last().unwrap_or("").trim();
        bail!("{argv:?}: {last} (exit {})", sample.code);
    }
    Ok(())
}

/// The base variant's OCI config, running [`SLEEP`].
pub fn sleeping_config(env: &Env) -> Result<Value> {
    let template = env.template.as_ref().context("no OCI template")?;
    let mut config = bundle::for_variant(template, &VARIANTS[0]);
    config["process"]["args"] = json!(SLEEP);
    Ok(config)
}
