//! `box inspect`: the recorded state next to what the kernel reports now — namespaces against
//! the host's, the cgroup's limits read back from its files, and the process's capability sets,
//! seccomp mode and no_new_privs from `/proc/PID/status`.

use anyhow::{Context, Result};
use procfs_core::process::Status as ProcStatus;
use procfs_core::FromRead;
use serde_json::{json, Value};

use super::parse;
use super::template::Template;
use crate::name::Name;
use crate::state::{Entry, Root, State, Status};

pub fn inspect(root: &Root, names: &[String], format: Option<&str>) -> Result<i32> {
    let template = format.map(Template::parse).transpose()?;
    let mut docs = Vec::new();
    let mut code = 0;
    for name in names {
        let doc = parse(name).and_then(|name| document(root, &name, &root.entry(&name)?));
        match doc {
            Ok(doc) => docs.push(doc),
            Err(e) => {
                eprintln!("box: {e:#}");
                code = 1;
            }
        }
    }
    match template {
        Some(t) => {
            for doc in &docs {
                println!("{}", t.render(doc)?);
            }
        }
        None => println!("{}", serde_json::to_string_pretty(&docs)?),
    }
    Ok(code)
}

/// The JSON document of one container.
pub fn document(root: &Root, name: &Name, entry: &Entry) -> Result<Value> {
    let Some(state) = entry.state() else {
        return Ok(damaged(root, name, entry));
    };
    let status = state.status();
    let pid = state.running_pid();
    let namespaces = match pid {
        Some(pid) => namespaces(pid)?,
        None => Vec::new(),
    };
    Ok(json!({
        "Name": state.name,
        "Created": state.created_at,
        "State": {
            "Status": status,
            "Running": status == Status::Running,
            "Pid": pid.unwrap_or(0),
            "MonitorPid": state.monitor.map(|m| m.pid),
            "ExitCode": state.exit_code,
            "OOMKilled": state.oom_killed,
            "Error": state.error,
            "StartedAt": state.started_at,
            "FinishedAt": state.finished_at,
            "StateError": entry.note,
        },
        "Config": { "File": state.file, "Spec": state.spec, "Stop": state.stop },
        "Namespaces": namespaces,
        "Cgroup": cgroup(state, pid.is_some())?,
        "Security": pid.map(security).transpose()?,
        "Network": super::network_info::network(state, pid.is_some()),
        "LogPath": root.log_path(name),
        "StateDir": root.dir(name),
    }))
}

/// What box knows of a container whose record is damaged: its monitor and PID 1 as the
/// kernel shows them, and why the record cannot be read.
fn damaged(root: &Root, name: &Name, entry: &Entry) -> Value {
    let pid = entry.container_process().map(|p| p.pid);
    json!({
        "Name": name.as_str(),
        "State": {
            "Status": Status::Damaged,
            "Running": pid.is_some(),
            "Pid": pid.unwrap_or(0),
            "MonitorPid": entry.live_monitor().map(|m| m.pid),
            "StateError": entry.damage(),
        },
        "Cgroup": { "Path": entry.cgroup_path() },
        "LogPath": root.log_path(name),
        "StateDir": root.dir(name),
    })
}

/// Each kind: the container's inode, the host's (box's own), shared or not — read now.
fn namespaces(pid: i32) -> Result<Vec<Value>> {
    let rows = box_ns::compare(Some(pid), None).context("read /proc/PID/ns")?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "Kind": r.kind.proc_name(),
                "Container": r.a.ino,
                "Host": r.b.ino,
                "Shared": r.shared(),
            })
        })
        .collect())
}

/// The cgroup path, and its limits as the kernel shows them while it exists.
fn cgroup(state: &State, running: bool) -> Result<Value> {
    let Some(cg) = &state.spec.cgroup else {
        return Ok(Value::Null);
    };
    let limits = if running {
        let layout = box_cgroup::Layout::detect().context("detect cgroups")?;
        let cgroup = box_cgroup::Cgroup::open(&layout, &cg.path)
            .with_context(|| format!("open cgroup {}", cg.path.display()))?;
        Some(cgroup.read_limits().context("read cgroup limits")?)
    } else {
        None
    };
    Ok(json!({ "Path": cg.path, "Limits": limits }))
}

/// What `/proc/PID/status` says the process may do (parsed by `procfs-core`): capability sets
/// as the kernel prints them (16 hex digits), seccomp mode, no_new_privs.
fn security(pid: i32) -> Result<Value> {
    let path = format!("/proc/{pid}/status");
    let status = ProcStatus::from_file(&path).with_context(|| format!("read {path}"))?;
    let seccomp = match status.seccomp {
        Some(0) => "disabled",
        Some(1) => "strict",
        Some(2) => "filter",
        _ => "unknown",
    };
    let caps = |set: u64| format!("{set:016x}");
    Ok(json!({
        "CapEff": caps(status.capeff),
        "CapBnd": status.capbnd.map(caps),
        "Seccomp": seccomp,
        "NoNewPrivs": status.nonewprivs == Some(1),
    }))
}
