//! `startContainer` hooks: each one a process joined to the held container's namespaces and
//! cgroup (as `exec` joins them), so that its path resolves and it runs in the container, with
//! the runtime's privileges rather than the container process's (root, the host's bounding
//! set, no seccomp filter); the state JSON on its stdin, killed past its timeout.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{dup, dup2_stdin, pipe, write, Pid};
use oci_spec::runtime::Hook;

use box_launcher::{exec, Process, Spec};
use box_security::{CapSet, Capabilities, SeccompConfig, SecurityConfig, UserSpec};

/// Runs `hooks` in order in the container whose (held) process is `pid`.
pub fn run(
    kind: &str,
    hooks: &[Hook],
    state: &serde_json::Value,
    container: &Spec,
    pid: Pid,
) -> Result<()> {
    for hook in hooks {
        run_one(hook, state, container, pid)
            .with_context(|| format!("{kind} hook {}", hook.path().display()))?;
    }
    Ok(())
}

fn run_one(hook: &Hook, state: &serde_json::Value, container: &Spec, pid: Pid) -> Result<()> {
    let mut spec = container.clone();
    spec.security = runtime_privileges()?;
    spec.tunables.preserve_fds = 0;
    spec.tunables.umask = None;
    // The hook's path, then its arguments after argv[0] (box execs args[0] as the program).
    let args = hook.args().clone().unwrap_or_default();
    let process = Process {
        args: std::iter::once(hook.path().display().to_string())
            .chain(args.into_iter().skip(1))
            .collect(),
        env: hook.env().clone().unwrap_or_default(),
        cwd: "/".into(),
        tty: false,
    };
    let running = with_stdin(state.to_string().into_bytes(), || {
        exec(&spec, pid, process).map_err(anyhow::Error::from)
    })?;
    let hook_pid = running.pid;
    let timeout = hook
        .timeout()
        .filter(|&t| t > 0)
        .map(|t| Duration::from_secs(t as u64));
    // A watchdog thread, ended and joined before the next hook: the launcher clones, which
    // only a single-threaded process may do safely.
    let (done, wait_done) = std::sync::mpsc::channel::<()>();
    let watchdog = timeout.map(|t| {
        std::thread::spawn(move || {
            // Disconnected: the hook ended (and is reaped) in time.
            let expired = matches!(wait_done.recv_timeout(t), Err(RecvTimeoutError::Timeout));
            if expired {
                // Not yet reaped (`supervise` reaps it), so the pid is still the hook's.
                let _ = kill(hook_pid, Signal::SIGKILL);
            }
            expired
        })
    });
    let outcome = running.supervise();
    drop(done);
    let timed_out = watchdog.is_some_and(|w| w.join().unwrap_or(false));
    let code = outcome?.exit_code();
    if timed_out {
        bail!("timed out after {:?}", timeout.unwrap_or_default());
    }
    if code != 0 {
        bail!("failed with exit code {code}");
    }
    Ok(())
}

/// Root with the host's bounding set, as the runtime itself runs, and no filter.
fn runtime_privileges() -> Result<SecurityConfig> {
    let all = box_security::host_bounding_set().context("read the host's bounding set")?;
    Ok(SecurityConfig {
        capabilities: Capabilities {
            bounding: all,
            effective: all,
            inheritable: CapSet::EMPTY,
            permitted: all,
            ambient: CapSet::EMPTY,
        },
        no_new_privileges: false,
        seccomp: SeccompConfig::Unconfined,
        rlimits: Vec::new(),
        apparmor_profile: None,
        selinux_label: None,
        user: UserSpec {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
        },
    })
}

/// Calls `f` with stdin replaced by a pipe holding `input` (the process `f` starts inherits
/// it), then puts box-runc's stdin back. The pipe is filled first, without a writer thread:
/// the launcher clones, which only a single-threaded process may do safely.
fn with_stdin<T>(input: Vec<u8>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let (read_end, write_end) = pipe().context("pipe for the hook's stdin")?;
    if input.len() > DEFAULT_PIPE_SIZE {
        let size = i32::try_from(input.len()).context("the state is too large")?;
        fcntl(&write_end, FcntlArg::F_SETPIPE_SZ(size))
            .context("make the hook's stdin pipe hold the state")?;
    }
    let mut rest = &input[..];
    while !rest.is_empty() {
        match write(&write_end, rest) {
            Ok(n) => rest = &rest[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e).context("write the state for the hook"),
        }
    }
    drop(write_end);
    let saved = dup(std::io::stdin()).context("save stdin")?;
    dup2_stdin(&read_end).context("hand the state to the hook's stdin")?;
    drop(read_end);
    let result = f();
    let restored = dup2_stdin(&saved).context("restore stdin");
    let value = result?;
    restored?;
    Ok(value)
}

/// Linux's default pipe capacity: a larger state needs F_SETPIPE_SZ.
const DEFAULT_PIPE_SIZE: usize = 65536;
