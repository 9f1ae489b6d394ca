//! `create`, `start`, `run`, `delete`: a container's life. `create` returns with the
//! container's process held before `execve`, reparented to the caller's subreaper once
//! box-runc exits; nothing of box stays behind.

use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};

use box_launcher::{create as launch_held, Hold};

use crate::cli::{Create, Global};
use crate::convert::{convert, Bundle};
use crate::state::{self, Locked, Record, Root, Status};
use crate::{console, hooks};

pub fn create(g: &Global, c: &Create) -> Result<i32> {
    create_held(g, c)?;
    Ok(0)
}

/// Creates the container and returns its pid, the process released to wait for `start`.
fn create_held(g: &Global, c: &Create) -> Result<i32> {
    let bundle = Bundle::load(&c.bundle)?;
    let mut container = convert(&bundle, &c.id)?;
    container.spec.rootfs.no_pivot = c.no_pivot;
    // The state createContainer hooks read; the init puts its pid first.
    let mut state = serde_json::json!({
        "ociVersion": oci_spec::runtime::VERSION,
        "id": c.id,
        "status": "creating",
        "bundle": bundle.dir,
        "annotations": container.annotations,
    });
    if let box_rootfs::Root::Dir(p) = &container.spec.rootfs.root {
        state["rootfs"] = serde_json::json!(p);
    }
    container.spec.tunables.create_container.state = state.to_string();
    container.spec.tunables.preserve_fds = c.preserve_fds;
    if container.spec.process.tty != c.console_socket.is_some() {
        bail!("process.terminal and --console-socket go together: give both or neither");
    }
    let root = Root(g.root.clone());
    let locked = root.claim(&c.id)?;
    match create_in(&locked, &bundle, container, c) {
        Ok(pid) => Ok(pid),
        Err(e) => {
            let _ = locked.remove();
            Err(e)
        }
    }
}

fn create_in(
    locked: &Locked,
    bundle: &Bundle,
    container: crate::convert::Container,
    c: &Create,
) -> Result<i32> {
    let fifo = state::make_fifo(&locked.fifo())?;
    let mut created = launch_held(&container.spec, Hold::UntilWritten(fifo))?;
    let pid = created.pid.as_raw();
    if let (Some(master), Some(socket)) = (created.tty_master.take(), &c.console_socket) {
        let size = bundle
            .config
            .process()
            .as_ref()
            .and_then(|p| p.console_size())
            .map(|b| (b.height() as u16, b.width() as u16));
        console::send(socket, master.as_fd(), size)?;
    }
    let record = Record {
        id: c.id.clone(),
        pid,
        start_time: state::start_time(pid).context("read the container's start time")?,
        bundle: bundle.dir.clone(),
        created: state::now_rfc3339(),
        annotations: container.annotations,
        spec: container.spec,
        hooks: container.hooks,
    };
    locked.write(&record)?;
    let st = oci_state(&record, Status::Created);
    hooks::run("prestart", &record.hooks.prestart, &st)?;
    hooks::run("createRuntime", &record.hooks.create_runtime, &st)?;
    if let Some(path) = &c.pid_file {
        write_pid_file(path, pid)?;
    }
    created.release()?;
    Ok(pid)
}

pub fn start(g: &Global, id: &str) -> Result<i32> {
    let locked = Root(g.root.clone()).open(id)?;
    let record = locked.read()?;
    match record.status(&locked.dir) {
        Status::Created => {}
        other => bail!("container {id:?} is {}, not created", other.as_str()),
    }
    if !record.hooks.start_container.is_empty() {
        let pid = record
            .live_pid()
            .context("the container's process is gone")?;
        let st = oci_state(&record, Status::Created);
        let hooks = &record.hooks.start_container;
        if let Err(e) = hooks::in_container::run("startContainer", hooks, &st, &record.spec, pid) {
            // As a failed start: the container's process never runs its command.
            let _ = kill(pid, Signal::SIGKILL);
            return Err(e);
        }
    }
    state::write_fifo(&locked.fifo())?;
    std::fs::remove_file(locked.fifo()).context("remove exec.fifo")?;
    let st = oci_state(&record, Status::Running);
    if let Err(e) = hooks::run("poststart", &record.hooks.poststart, &st) {
        // The spec: a failed poststart hook is a warning, the container runs on.
        crate::log::warn(&format!("{e:#}"));
    }
    Ok(0)
}

pub fn run(g: &Global, c: &Create, detach: bool, keep: bool) -> Result<i32> {
    let pid = create_held(g, c)?;
    // Blocked before the command runs (and after create, whose launcher unblocks its own):
    // none of them is lost between start and the wait.
    let signals = (!detach).then(block_forwarded).transpose()?;
    start(g, &c.id)?;
    let Some(signals) = signals else {
        return Ok(0);
    };
    // The held process is box-runc's own child until box-runc exits: wait for it here,
    // passing on the signals box-runc gets, as runc does.
    let code = wait_forwarding(nix::unistd::Pid::from_raw(pid), &signals)?;
    if !keep {
        delete(g, &c.id, true)?;
    }
    Ok(code)
}

pub fn delete(g: &Global, id: &str, force: bool) -> Result<i32> {
    let root = Root(g.root.clone());
    // As runc: forcing the removal of what is already gone succeeds (the shim's cleanup).
    if force && crate::state::check_id(id).is_ok() && !root.dir(id).exists() {
        return Ok(0);
    }
    let locked = root.open(id)?;
    let record = match locked.read() {
        Ok(r) => r,
        // A create killed before it recorded anything: its directory is all there is.
        Err(_) if force => return locked.remove().map(|()| 0),
        Err(e) => return Err(e),
    };
    let status = record.status(&locked.dir);
    if matches!(status, Status::Running | Status::Paused) && !force {
        bail!(
            "container {id:?} is {}: stop it first, or delete --force",
            status.as_str()
        );
    }
    if let Some(pid) = record.live_pid() {
        let _ = kill(pid, Signal::SIGKILL);
    }
    match crate::cgroup::open(&record.spec) {
        // Kills whatever is left (a frozen cgroup is thawed to let them die), removes it.
        Ok(cg) => cg
            .destroy_keep_parents()
            .context("remove the container's cgroup")?,
        Err(e) if cgroup_gone(&e) => {}
        Err(e) => return Err(e),
    }
    let st = oci_state(&record, Status::Stopped);
    if let Err(e) = hooks::run("poststop", &record.hooks.poststop, &st) {
        crate::log::warn(&format!("{e:#}"));
    }
    locked.remove()?;
    Ok(0)
}

fn cgroup_gone(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<box_cgroup::Error>(),
            Some(box_cgroup::Error::NotFound { .. })
        )
    })
}

/// The state as OCI hooks and `state` have it.
pub fn oci_state(record: &Record, status: Status) -> serde_json::Value {
    let pid = match status {
        Status::Stopped => 0,
        _ => record.pid,
    };
    serde_json::json!({
        "ociVersion": oci_spec::runtime::VERSION,
        "id": record.id,
        "status": status.as_str(),
        "pid": pid,
        "bundle": record.bundle,
        "rootfs": match &record.spec.rootfs.root {
            box_rootfs::Root::Dir(p) => p.clone(),
            box_rootfs::Root::Host => "/".into(),
            // Not made by box-runc (a bundle's root is a directory); box's image roots.
            box_rootfs::Root::Overlay(o) => o.dir.clone(),
        },
        "created": record.created,
        "owner": "",
        "annotations": record.annotations,
    })
}

/// Written aside and renamed, so that a reader never sees half a number.
pub fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("--pid-file names no file")?;
    let aside = dir.join(format!(".{}.new", name.to_string_lossy()));
    std::fs::write(&aside, pid.to_string())
        .with_context(|| format!("write {}", aside.display()))?;
    std::fs::rename(&aside, path).with_context(|| format!("write {}", path.display()))
}

/// The signals a foreground `run` passes on (^C, a terminal hangup, `kill` of box-runc) and
/// SIGCHLD, blocked and readable from a signalfd.
fn block_forwarded() -> Result<nix::sys::signalfd::SignalFd> {
    use nix::sys::signal::SigSet;
    use nix::sys::signalfd::{SfdFlags, SignalFd};

    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        set.add(sig);
    }
    set.thread_block().context("block the signals to pass on")?;
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).context("signalfd")
}

/// Waits for `pid`, sending it the signals read from `signals`; its exit status as a shell
/// reports it.
fn wait_forwarding(pid: nix::unistd::Pid, signals: &nix::sys::signalfd::SignalFd) -> Result<i32> {
    use nix::sys::wait::WaitPidFlag;

    loop {
        // Also first: a SIGCHLD from before the block was discarded.
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e).context("wait for the container"),
        }
        let Some(info) = signals.read_signal().context("read a signal")? else {
            continue;
        };
        let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
            continue;
        };
        if sig != Signal::SIGCHLD {
            // Gone already: its exit is read on the next turn.
            let _ = kill(pid, sig);
        }
    }
}
