//! `exec`: one more process in a running container, from `--process FILE` (an OCI process
//! JSON) or from the command line on top of the container's own process. With `--detach` it
//! outlives box-runc (held until box-runc has written its pid file, like `create`);
//! without, box-runc waits for it and exits with its code.

use anyhow::{bail, Context, Result};

use box_launcher::{exec as exec_attached, exec_detached, Process, Spec};
use box_security::{parse_capability, UserSpec};

use crate::cli::{Exec, Global};
use crate::commands::lifecycle::write_pid_file;
use crate::console;
use crate::convert::process;
use crate::state::{Root, Status};

pub fn exec(g: &Global, e: &Exec) -> Result<i32> {
    let locked = Root(g.root.clone()).open(&e.id)?;
    let record = locked.read()?;
    match record.status(&locked.dir) {
        Status::Running => {}
        Status::Paused if e.ignore_paused => {}
        other => bail!("container {:?} is {}, not running", e.id, other.as_str()),
    }
    let pid = record
        .live_pid()
        .context("the container's process is gone")?;
    // The lock is not held while the process runs: `kill` and `delete` must get through.
    drop(locked);
    let (spec, proc, size) = process_spec(&record.spec, e)?;
    if proc.tty && e.console_socket.is_none() && e.detach {
        bail!("a detached exec with a terminal needs --console-socket");
    }
    if e.detach {
        let mut created = exec_detached(&spec, pid, proc)?;
        if let (Some(master), Some(socket)) = (created.tty_master.take(), &e.console_socket) {
            console::send(socket, std::os::fd::AsFd::as_fd(&master), size)?;
        }
        if let Some(path) = &e.pid_file {
            write_pid_file(path, created.pid.as_raw())?;
        }
        created.release()?;
        return Ok(0);
    }
    let mut running = exec_attached(&spec, pid, proc)?;
    if let Some(path) = &e.pid_file {
        write_pid_file(path, running.pid.as_raw())?;
    }
    if let Some(socket) = &e.console_socket {
        if let Some(master) = running.take_tty_master() {
            console::send(socket, std::os::fd::AsFd::as_fd(&master), size)?;
        }
    }
    Ok(running.supervise()?.exit_code())
}

/// The container's spec with this process's identity and security (the seccomp filter stays
/// the container's, as runc keeps it).
/// The spec to exec with, the process, and its terminal's size (rows, columns).
type ExecPlan = (Spec, Process, Option<(u16, u16)>);

fn process_spec(container: &Spec, e: &Exec) -> Result<ExecPlan> {
    let mut spec = container.clone();
    let mut size = None;
    let mut proc = match &e.process {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
            let oci: oci_spec::runtime::Process =
                serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
            let parts = process(&oci, &path.display().to_string())?;
            let seccomp = spec.security.seccomp.clone();
            spec.security = parts.security;
            spec.security.seccomp = seccomp;
            spec.tunables.umask = parts.umask.or(spec.tunables.umask);
            size = parts.console_size;
            parts.process
        }
        None => {
            if e.command.is_empty() {
                bail!("exec needs a command or --process FILE");
            }
            Process {
                args: e.command.clone(),
                ..container.process.clone()
            }
        }
    };
    proc.tty = proc.tty || e.tty;
    if let Some(cwd) = &e.cwd {
        proc.cwd = cwd.clone();
    }
    for kv in &e.env {
        let key = kv.split('=').next().unwrap_or_default();
        proc.env.retain(|old| old.split('=').next() != Some(key));
        proc.env.push(kv.clone());
    }
    if let Some(user) = &e.user {
        let (uid, gid) = match user.split_once(':') {
            Some((u, g)) => (u.parse()?, g.parse()?),
            None => (user.parse()?, 0),
        };
        spec.security.user = UserSpec {
            uid,
            gid,
            additional_gids: spec.security.user.additional_gids.clone(),
        };
    }
    if !e.additional_gids.is_empty() {
        spec.security.user.additional_gids = e.additional_gids.clone();
    }
    for name in &e.cap {
        let cap = parse_capability(name).with_context(|| format!("unknown capability {name:?}"))?;
        let caps = &mut spec.security.capabilities;
        for set in [&mut caps.bounding, &mut caps.effective, &mut caps.permitted] {
            set.insert(cap);
        }
    }
    spec.security.no_new_privileges |= e.no_new_privs;
    if let Some(a) = &e.apparmor {
        spec.security.apparmor_profile = Some(a.clone());
    }
    if let Some(l) = &e.process_label {
        spec.security.selinux_label = Some(l.clone());
    }
    // This exec's own, not the container's.
    spec.tunables.preserve_fds = e.preserve_fds;
    // No terminal of the container's own for an exec: its console stays PID 1's.
    spec.rootfs.console = false;
    Ok((spec, proc, size))
}
