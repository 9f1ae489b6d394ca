//! `box up -d`: start a container that outlives the command, watched by a monitor process.
//!
//! box forks the monitor first, instead of re-executing itself: box is single-threaded at that
//! point, so the forked copy may call the launcher directly. That saves an `execve` of box and
//! a second parse of box.toml, and the Spec needs no passing around. The monitor claims the
//! name itself, so the record names the process that will start the container from its very
//! first byte, and it dies with `box up -d` (parent-death signal) until it has recorded the
//! container running: `box up -d` killed at any moment leaves either nothing, or a claim whose
//! monitor died with it (`dead`: `box rm` removes it), or a running container. The monitor
//! becomes the container's parent, so the container's parent-death signal ties it to the
//! monitor, and it is the monitor that reaps it and removes its cgroup.
//!
//! The container's stdout and stderr are one pipe that the monitor copies into the log: the
//! container never holds the log file itself, which it could otherwise fill with a program
//! and `chmod 4755` through `/proc/self/fd/1`.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use nix::fcntl::OFlag;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::{
    dup2_stderr, dup2_stdin, dup2_stdout, fork, getpid, getppid, pipe2, setsid, write, ForkResult,
    Pid,
};

use box_cli::config::Resolved;
use box_launcher::exit_code::CANNOT_START;
use box_launcher::{MonitorMessage, Output, Sink, Spec};

use super::logtimes::Stamped;
use crate::config::Stop;
use crate::name::Name;
use crate::state::{now_rfc3339, Owned, ProcessId, Recorded, Root, State};

/// Starts `spec` detached; prints its name once it runs. Returns the exit code. With
/// `remove` (`box run -d --rm`) the monitor removes the container once it has ended.
pub fn up_detached(
    root: &Root,
    file: &Path,
    spec: Spec,
    stop: Stop,
    remove: bool,
    image: Option<Resolved>,
) -> i32 {
    match start(root, file, spec, stop, remove, image) {
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

/// Starts `spec` detached; its name, or Docker's exit code and a message.
/// `image` (held in the store) is named by the record the monitor writes; this process holds
/// the store until the monitor reports.
pub(crate) fn start(
    root: &Root,
    file: &Path,
    spec: Spec,
    stop: Stop,
    remove: bool,
    image: Option<Resolved>,
) -> Result<String, (i32, String)> {
    let failed = |e: anyhow::Error| (CANNOT_START, format!("{e:#}"));
    if spec.process.tty {
        return Err(failed(anyhow!(
            "a detached container has no terminal: drop `tty = true` or `-t`"
        )));
    }
    let name = Name::parse(&spec.name).map_err(|e| failed(e.into()))?;
    super::install_init(&spec).map_err(failed)?;
    let report = spawn_monitor(root, file, &name, (spec, stop), remove, image).map_err(failed)?;
    match MonitorMessage::decode(&report) {
        Ok(MonitorMessage::Running) => Ok(name.to_string()),
        Ok(MonitorMessage::Failed { code, message }) => Err((code, message)),
        // Nothing (the monitor died before it reported) or not a report.
        Err(_) => Err(failed(anyhow!(
            "the monitor of {:?} ended before the container started (see `box ps -a`; `box rm -f {name}` removes what is left)",
            name.as_str()
        ))),
    }
}

/// Forks the monitor and reads its one report, a [`MonitorMessage`].
fn spawn_monitor(
    root: &Root,
    file: &Path,
    name: &Name,
    (spec, stop): (Spec, Stop),
    remove: bool,
    image: Option<Resolved>,
) -> Result<String> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/null")
        .context("open /dev/null")?;
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).context("pipe")?;
    let parent = getpid();
    // SAFETY: box is single-threaded here (it never starts a thread), so the child may do
    // anything the parent could, including allocating and starting the container.
    match unsafe { fork() }.context("fork the monitor")? {
        ForkResult::Child => {
            drop(read_end);
            let monitor = Monitor {
                root,
                name,
                report: Some(write_end),
                parent,
                remove,
            };
            std::process::exit(monitor.run(file, (spec, stop), image, null.into()))
        }
        ForkResult::Parent { .. } => {
            drop((write_end, null));
            let mut report = String::new();
            File::from(read_end)
                .read_to_string(&mut report)
                .context("read the monitor's report")?;
            drop(image);
            Ok(report)
        }
    }
}

struct Monitor<'a> {
    root: &'a Root,
    name: &'a Name,
    /// The write end of the pipe `box up -d` reads the one-line report from, until the
    /// report is written.
    report: Option<OwnedFd>,
    /// `box up -d`, which the monitor dies with until it reports the container running.
    parent: Pid,
    /// Remove the container once it has ended (`box run -d --rm`), instead of recording it.
    remove: bool,
}

impl Monitor<'_> {
    fn say(&self, message: &MonitorMessage) {
        if let Some(report) = &self.report {
            let _ = write(report, message.encode().as_bytes());
        }
    }

    /// Reports a failure before the container ran; the claim, if taken, is undone.
    fn fail(&self, owned: Option<Owned>, code: i32, message: &str) -> i32 {
        let undone = owned.map_or(Ok(()), Owned::release);
        let message = match undone {
            Ok(()) => message.to_string(),
            Err(e) => format!("{message} (and undoing the claim failed: {e:#})"),
        };
        self.say(&MonitorMessage::Failed { code, message });
        1
    }

    /// The monitor's whole life: claim the name, start the container, record it, wait, record
    /// how it ended.
    /// `image` is held (the store's `gc.lock`, shared with `box up -d`'s copy of the fd) until
    /// the record names it; then released, for both: a lock of `flock` is the open file's.
    fn run(
        mut self,
        file: &Path,
        (spec, stop): (Spec, Stop),
        image: Option<Resolved>,
        null: OwnedFd,
    ) -> i32 {
        // Until the container runs, the start belongs to `box up -d`: killed, it takes the
        // monitor (and the container, the monitor's child) with it, so that a start nobody
        // waits for any more never goes on behind a `box rm -f` that found nothing yet.
        if prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != self.parent {
            return 1;
        }
        // Its own session: no terminal's signals reach it, and the shell's job control
        // ignores it.
        let _ = setsid();
        let me = match ProcessId::of(std::process::id() as i32) {
            Some(me) => me,
            None => return self.fail(None, CANNOT_START, "read /proc/self/stat"),
        };
        let used = image.as_ref().map(|i| i.used.clone());
        let mut state = State::created(self.name, file, spec, stop, used, me);
        let owned = match self.root.claim(&state) {
            Ok(owned) => owned,
            Err(e) => return self.fail(None, CANNOT_START, &format!("{e:#}")),
        };
        // Not kept for the container's life: `box rmi` would wait on it.
        drop(image);
        let log = match self.root.create_log(self.name) {
            Ok(log) => log,
            Err(e) => return self.fail(Some(owned), CANNOT_START, &format!("{e:#}")),
        };
        // Made before `box up -d` returns, so that `box logs --timestamps` never finds it
        // missing.
        let times = self.root.create_times(self.name);
        // The container inherits stdout and stderr: the write end of the output pipe, in
        // place until the container is started.
        let output = dup2_stdin(&null)
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
                let message = format!("set up the monitor: {errno}");
                return self.fail(Some(owned), CANNOT_START, &message);
            }
        };
        let running = match box_launcher::start(&state.spec) {
            Ok(running) => running,
            Err(e) => return self.fail(Some(owned), e.exit_code(), &e.to_string()),
        };
        // From here the monitor's own output goes to the log, and the container holds the
        // only write ends of the pipe: their closing is the end of its output.
        let own_output = dup2_stdout(&log)
            .and_then(|()| dup2_stderr(&log))
            .map_err(|errno| anyhow!("send the monitor's output to the log: {errno}"));
        state.recorded = Recorded::Running;
        state.pid = ProcessId::of(running.pid.as_raw());
        state.started_at = Some(now_rfc3339());
        // Recorded running, it is a container like any other: `box up -d` may end now.
        let recorded = own_output
            .and_then(|()| owned.record(&state))
            .and_then(|()| {
                prctl::set_pdeathsig(None)
                    .map_err(|errno| anyhow!("outlive box up -d (prctl PR_SET_PDEATHSIG): {errno}"))
            });
        if let Err(e) = recorded {
            // Nobody could find it: do not leave it running.
            let _ = nix::sys::signal::kill(running.pid, Signal::SIGKILL);
            let _ = running.supervise();
            return self.fail(Some(owned), CANNOT_START, &format!("{e:#}"));
        }
        self.say(&MonitorMessage::Running);
        // `box up -d` reads until the end of the pipe.
        self.report = None;
        // Hold no directory of the caller's busy (say, a test's temporary directory).
        let _ = std::env::set_current_dir("/");
        super::trim::give_back();
        // Each line stamped with its time on the way (`box logs --timestamps`); without the
        // stamps (their file could not be made), straight into the log.
        let sink: Box<dyn Sink> = match times {
            Ok(times) => Box::new(Stamped::new(log, times)),
            Err(e) => {
                eprintln!("box: log times: {e:#}");
                Box::new(OwnedFd::from(log))
            }
        };
        let outcome = running.supervise_output(Output { pipe, sink });
        state.recorded = Recorded::Exited;
        state.finished_at = Some(now_rfc3339());
        match &outcome {
            // PID 1's own code, as Docker keeps it; an OOM kill of any process is noted apart.
            Ok(o) => {
                state.oom_killed = o.oom_killed;
                state.exit_code = Some(o.exit_code());
                state.error = o
                    .teardown_error
                    .as_ref()
                    .map(|why| format!("ended, but removing it failed: {why}"));
            }
            Err(e) => state.error = Some(e.to_string()),
        }
        if self.remove {
            // As `docker run -d --rm`: state, log and all. (Its cgroup went with it.)
            return match owned.release() {
                Ok(()) => 0,
                Err(_) => 1,
            };
        }
        // Said in the log, the one place left to say it (it may be full too).
        match owned.record_exit(&state) {
            Ok(None) => {}
            Ok(Some(why)) => eprintln!("box: the exit was recorded in the lock file: {why}"),
            Err(e) => eprintln!("box: the exit could not be recorded: {e:#}"),
        }
        0
    }
}
