//! `box up -d`: start a container that outlives the command, watched by a monitor process.
//!
//! box forks the monitor before it starts the container, instead of re-executing itself: box
//! is single-threaded at that point, so the forked copy may call the launcher directly. That
//! saves an `execve` of box and a second parse of box.toml, and the Spec needs no passing
//! around. The monitor becomes the container's parent, so the container's parent-death signal
//! ties it to the monitor, and it is the monitor that reaps it and removes its cgroup.
//!
//! The container's stdout and stderr are one pipe that the monitor copies into the log: the
//! container never holds the log file itself, which it could otherwise fill with a program
//! and `chmod 4755` through `/proc/self/fd/1`.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::OFlag;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, fork, pipe2, setsid, write, ForkResult};

use box_launcher::{Output, Spec};

use crate::name::Name;
use crate::state::{now_rfc3339, ProcessId, Recorded, Root, State, Status};

/// Starts `spec` detached; prints its name once it runs. Returns the exit code.
pub fn up_detached(root: &Root, file: &Path, spec: Spec) -> i32 {
    match start(root, file, spec) {
        Ok(name) => {
            println!("{name}");
            0
        }
        Err((code, message)) => {
            eprintln!("box: {message}");
            code
        }
    }
}

/// Docker's code for "the runtime itself failed".
const EXIT_BOX_FAILED: i32 = 125;

/// Starts `spec` detached; its name, or Docker's exit code and a message.
pub(crate) fn start(root: &Root, file: &Path, spec: Spec) -> Result<String, (i32, String)> {
    let failed = |e: anyhow::Error| (EXIT_BOX_FAILED, format!("{e:#}"));
    if spec.process.tty {
        return Err(failed(anyhow::anyhow!(
            "a detached container has no terminal: drop `tty = true` or `-t`"
        )));
    }
    let name = Name::parse(&spec.name).map_err(|e| failed(e.into()))?;
    claim(root, file, spec, None).map_err(failed)?;
    let report = match spawn_monitor(root, &name) {
        Ok(report) => report,
        Err(e) => {
            forget(root, &name);
            return Err(failed(e));
        }
    };
    match report.split_once('\t') {
        None if report == "R\n" => Ok(name.to_string()),
        Some(("E", rest)) => {
            forget(root, &name);
            let (code, message) = rest.split_once('\t').unwrap_or(("125", rest));
            Err((
                code.parse().unwrap_or(EXIT_BOX_FAILED),
                message.trim_end().to_string(),
            ))
        }
        _ => {
            forget(root, &name);
            Err(failed(anyhow::anyhow!(
                "the monitor of {name:?} ended before the container started"
            )))
        }
    }
}

/// Takes the name: under the lock, no state may exist yet. Of two racing `box up`, the second
/// to get the lock finds the first one's state and fails. A dead container's state (the
/// monitor it recorded is gone, and the container with it: box was killed) does not hold the
/// name; its cgroup, if left, is swept when the new one is created.
/// `monitor`: the process that will watch the container, when it is already known.
pub(crate) fn claim(
    root: &Root,
    file: &Path,
    spec: Spec,
    monitor: Option<ProcessId>,
) -> Result<()> {
    let name = Name::parse(&spec.name)?;
    let lock = root.lock(&name, true)?;
    let dead = |old: &State| old.monitor.is_some() && old.status() == Status::Dead;
    if let Some(old) = lock.read(&name)?.filter(|old| !dead(old)) {
        bail!(
            "the name {name:?} is already in use by a container ({}): remove it first with `box rm {name}`",
            old.status().as_str()
        );
    }
    lock.write(&State {
        name: name.to_string(),
        recorded: Recorded::Created,
        pid: None,
        monitor,
        created_at: now_rfc3339(),
        started_at: None,
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        error: None,
        file: std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()),
        spec,
    })
}

/// Removes the state of a container that never started.
pub(crate) fn forget(root: &Root, name: &Name) {
    if let Ok(lock) = root.lock(name, false) {
        let _ = lock.remove();
    }
}

/// Forks the monitor and reads its one-line report: `R` (running) or `E\tCODE\tMESSAGE`.
fn spawn_monitor(root: &Root, name: &Name) -> Result<String> {
    let log = root.create_log(name)?;
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/null")
        .context("open /dev/null")?;
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).context("pipe")?;
    // SAFETY: box is single-threaded here (it never starts a thread), so the child may do
    // anything the parent could, including allocating and starting the container.
    match unsafe { fork() }.context("fork the monitor")? {
        ForkResult::Child => {
            drop(read_end);
            let code = monitor(root, name, log, null.into(), write_end);
            std::process::exit(code)
        }
        ForkResult::Parent { .. } => {
            drop((write_end, log, null));
            let mut report = String::new();
            std::fs::File::from(read_end)
                .read_to_string(&mut report)
                .context("read the monitor's report")?;
            Ok(report)
        }
    }
}

/// The monitor's whole life: start the container, record it, wait, record how it ended.
fn monitor(root: &Root, name: &Name, log: File, null: OwnedFd, report: OwnedFd) -> i32 {
    let say = |text: &str| {
        let _ = write(&report, text.as_bytes());
    };
    // Its own session: no terminal's signals reach it, and the shell's job control ignores it.
    // The container inherits stdout and stderr: the write end of the output pipe, in place
    // until the container is started.
    let output = setsid()
        .map(drop)
        .and_then(|()| dup2_stdin(&null))
        .and_then(|()| pipe2(OFlag::O_CLOEXEC))
        .and_then(|(pipe, writer)| {
            dup2_stdout(&writer)?;
            dup2_stderr(&writer)?;
            Ok(pipe)
        });
    drop(null);
    let pipe = match output {
        Ok(pipe) => pipe,
        Err(errno) => {
            say(&format!("E\t125\tset up the monitor: {errno}\n"));
            return 1;
        }
    };
    let me = ProcessId::of(std::process::id() as i32);
    let update = |f: &dyn Fn(&mut State)| -> Result<()> {
        let lock = root.lock(name, false)?;
        let mut state = root.load(name)?;
        f(&mut state);
        lock.write(&state)
    };
    let state = match update(&|s| s.monitor = me).and_then(|()| root.load(name)) {
        Ok(state) => state,
        Err(e) => {
            say(&format!("E\t125\t{}\n", one_line(&format!("{e:#}"))));
            return 1;
        }
    };
    let running = match box_launcher::start(&state.spec) {
        Ok(running) => running,
        Err(e) => {
            say(&format!(
                "E\t{}\t{}\n",
                e.exit_code(),
                one_line(&e.to_string())
            ));
            return 1;
        }
    };
    // From here the monitor's own output goes to the log, and the container holds the only
    // write ends of the pipe: their closing is the end of its output.
    let own_output = dup2_stdout(&log)
        .and_then(|()| dup2_stderr(&log))
        .map_err(|errno| anyhow!("send the monitor's output to the log: {errno}"));
    let pid = ProcessId::of(running.pid.as_raw());
    let recorded = own_output.and_then(|()| {
        update(&|s| {
            s.recorded = Recorded::Running;
            s.pid = pid;
            s.started_at = Some(now_rfc3339());
        })
    });
    if let Err(e) = recorded {
        // Nobody could find it: do not leave it running.
        let _ = nix::sys::signal::kill(running.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = running.supervise();
        say(&format!("E\t125\t{}\n", one_line(&format!("{e:#}"))));
        return 1;
    }
    say("R\n");
    drop(report);
    // Hold no directory of the caller's busy (say, a test's temporary directory).
    let _ = std::env::set_current_dir("/");
    super::trim::release_code_pages();
    let outcome = running.supervise_output(Output {
        pipe,
        sink: log.into(),
    });
    let finished = now_rfc3339();
    let _ = update(&|s| {
        s.recorded = Recorded::Exited;
        s.finished_at = Some(finished.clone());
        match &outcome {
            // PID 1's own code, as Docker keeps it; an OOM kill of any process is noted apart.
            Ok(o) => {
                s.oom_killed = o.oom_killed;
                s.exit_code = Some(o.exit_code());
            }
            Err(e) => s.error = Some(e.to_string()),
        }
    });
    0
}

fn one_line(text: &str) -> String {
    text.replace('\n', " ")
}
