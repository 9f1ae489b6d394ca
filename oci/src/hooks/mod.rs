//! OCI hooks, run by box-runc in the runtime's namespaces (`startContainer`'s in the
//! container's: [`in_container`]) with the container's state JSON on
//! their stdin; a hook past its `timeout` (seconds) is killed and is an error.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use oci_spec::runtime::Hook;

pub mod in_container;

/// Runs `hooks` in order; the first failure stops the rest and is returned.
pub fn run(kind: &str, hooks: &[Hook], state: &serde_json::Value) -> Result<()> {
    for hook in hooks {
        run_one(kind, hook, state)?;
    }
    Ok(())
}

fn run_one(kind: &str, hook: &Hook, state: &serde_json::Value) -> Result<()> {
    let path = hook.path();
    let args = hook.args().clone().unwrap_or_default();
    let mut cmd = Command::new(path);
    if let Some((first, rest)) = args.split_first() {
        cmd.arg0(first).args(rest);
    }
    cmd.env_clear();
    for kv in hook.env().clone().unwrap_or_default() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("{kind} hook {}", path.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error.
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    // Read while it runs: a hook that fills the pipe would otherwise block until its timeout.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut err);
            err
        })
    });
    let timeout = hook
        .timeout()
        .filter(|&t| t > 0)
        .map(|t| Duration::from_secs(t as u64));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(reader) = stderr {
                let _ = reader.join();
            }
            bail!(
                "{kind} hook {} timed out after {:?}",
                path.display(),
                timeout.unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Joined whatever the outcome: box-runc may clone again after (`run` starts the
    // container's startContainer hooks), which only a single-threaded process may do.
    let err = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    if !status.success() {
        bail!(
            "{kind} hook {} failed ({status}): {}",
            path.display(),
            err.trim()
        );
    }
    Ok(())
}
