//! conmon, the monitor podman and CRI-O keep beside every container, as the anchor for box's
//! monitor: `conmon -r runc` runs `runc create`, then stays as the container's parent; the
//! container starts with `runc start`, as podman does it. Measured only for the memory it keeps
//! (not timed: podman's start path is more than conmon).

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::bundle;
use super::fleet;
use super::prepare::Env;
use super::resident::{self, Look, Resident};
use super::spawn;

pub const LABEL: &str = "conmon + runc";

/// `rounds` looks at one container kept by conmon; None without conmon or runc.
pub fn resident(env: &Env, rounds: usize) -> Option<Resident> {
    let conmon = env.conmon.as_ref()?;
    let runc = env.runtimes.iter().position(|r| r.name == "runc")?;
    let mut r = Resident::new(
        LABEL,
        "conmon (podman's, CRI-O's monitor) is the container's parent",
    );
    for round in 0..rounds {
        match one(env, conmon, runc, round) {
            Ok(l) => r.looks.push(l),
            Err(e) => {
                r.error = Some(format!("{e:#}"));
                break;
            }
        }
    }
    Some(r)
}

fn one(env: &Env, conmon: &Path, runc: usize, round: usize) -> Result<Look> {
    let rt = &env.runtimes[runc];
    let id = format!("bench-{}-conmon{round}", std::process::id());
    // Short: conmon makes unix sockets below it.
    let dir = env.work.join("cm").join(round.to_string());
    let bundle_dir = dir.join("bundle");
    let config = fleet::sleeping_config(env)?;
    bundle::write(
        &bundle_dir,
        &config,
        &format!("/{}/{id}", rt.cgroup_parent()),
    )?;
    let pidfile = dir.join("pid");
    let errors = dir.join("stderr");
    let argv: Vec<OsString> = vec![
        conmon.into(),
        "--api-version".into(),
        "1".into(),
        "-c".into(),
        id.clone().into(),
        "-u".into(),
        id.clone().into(),
        "-n".into(),
        id.clone().into(),
        "-r".into(),
        rt.bin.clone().into(),
        "-b".into(),
        bundle_dir.into(),
        "-p".into(),
        pidfile.clone().into(),
        "-l".into(),
        format!("k8s-file:{}", dir.join("log").display()).into(),
        "--exit-dir".into(),
        dir.clone().into(),
        "--socket-dir-path".into(),
        dir.clone().into(),
    ];
    let result = (|| {
        // conmon forks itself into the background and returns; the bench inherits it.
        fleet::run_checked(&(argv, None), &errors)?;
        wait_for(|| std::fs::metadata(&pidfile).is_ok_and(|m| m.len() > 0))
            .context("conmon did not create the container (no pid file)")?;
        let start = vec![rt.bin.clone().into(), "start".into(), id.clone().into()];
        fleet::run_checked(&(start, None), &errors)?;
        let l = resident::look();
        let delete = vec![
            rt.bin.clone().into(),
            "delete".into(),
            "-f".into(),
            id.clone().into(),
        ];
        fleet::run_checked(&(delete, None), &errors)?;
        Ok(l)
    })();
    // conmon notices its container's end and exits; wait for it so nothing outlives the bench.
    let gone = wait_for(|| {
        spawn::reap_orphans();
        super::procs::descendants().is_empty()
    });
    rt.cleanup(&id, &env.cgroup_mounts);
    match (result, gone) {
        (Ok(_), Err(e)) => Err(e.context("conmon still runs after runc delete -f")),
        (result, _) => result,
    }
}

/// Polls `cond` every 10 ms for up to 5 s.
fn wait_for(mut cond: impl FnMut() -> bool) -> Result<()> {
    let t0 = Instant::now();
    while !cond() {
        if t0.elapsed() > Duration::from_secs(5) {
            bail!("timed out after 5 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Where conmon is, installed from Debian when missing; or why it is not run.
pub fn find(install: &dyn Fn(&[&str]) -> Result<()>) -> Result<std::path::PathBuf, String> {
    if let Some(bin) = spawn::which("conmon") {
        return Ok(bin);
    }
    install(&["conmon"]).map_err(|e| format!("conmon: apt-get could not install it: {e:#}"))?;
    spawn::which("conmon").ok_or_else(|| "conmon: not installed".to_string())
}

/// The anchor the bench cannot run.
pub const NOT_MEASURED: &str = "containerd-shim-runc-v2 (containerd's per-container shim): \
     not measured, it needs a running containerd";
