//! `box run`'s options for `[resources]`, `[security]` and how `box stop` ends the container.

use super::args::RunArgs;
use super::parse::{self, SecurityOpt};
use super::to_toml::{show, Caller, Translated};
use super::RunError;

/// `[resources]`: numbers as TOML numbers, sizes as given (box.toml reads Docker's units).
pub fn resources(a: &RunArgs, t: &mut Translated) -> Result<(), RunError> {
    for (key, flag, value) in [
        ("memory", "--memory", &a.memory),
        ("memory_swap", "--memory-swap", &a.memory_swap),
        (
            "memory_reservation",
            "--memory-reservation",
            &a.memory_reservation,
        ),
        ("cpus", "--cpus", &a.cpus),
        ("cpu_shares", "--cpu-shares", &a.cpu_shares),
        ("cpuset_cpus", "--cpuset-cpus", &a.cpuset_cpus),
        ("cpuset_mems", "--cpuset-mems", &a.cpuset_mems),
        ("pids", "--pids-limit", &a.pids_limit),
    ] {
        let Some(text) = value else { continue };
        let bad = |what: &str| RunError::flag(&show(flag, text), format!("expected {what}"));
        let value = match key {
            "cpus" => toml::Value::Float(text.parse().map_err(|_| bad("a number of CPUs (1.5)"))?),
            "cpu_shares" | "pids" => {
                toml::Value::Integer(text.parse().map_err(|_| bad("an integer"))?)
            }
            "cpuset_cpus" | "cpuset_mems" => toml::Value::String(text.clone()),
            // A size: bytes as a number (-1 is unlimited), else Docker's units as text.
            _ => text
                .parse::<i64>()
                .map_or_else(|_| toml::Value::String(text.clone()), toml::Value::Integer),
        };
        t.set(format!("resources.{key}"), flag, text);
        t.doc.resources.insert(key.into(), value);
    }
    Ok(())
}

pub fn security(a: &RunArgs, caller: &Caller<'_>, t: &mut Translated) -> Result<(), RunError> {
    for (list, flag, caps) in [
        ("add", "--cap-add", &a.cap_add),
        ("drop", "--cap-drop", &a.cap_drop),
    ] {
        for (i, cap) in caps.iter().enumerate() {
            t.set(format!("security.capabilities.{list}[{i}]"), flag, cap);
        }
    }
    let s = &mut t.doc.security;
    s.capabilities.add.clone_from(&a.cap_add);
    s.capabilities.drop.clone_from(&a.cap_drop);
    s.readonly_rootfs = a.read_only;
    if a.read_only {
        t.set("security.readonly_rootfs", "--read-only", "");
    }
    for text in &a.security_opt {
        let opt = parse::security_opt(text, caller.cwd)
            .map_err(|m| RunError::flag(&show("--security-opt", text), m))?;
        let key = match opt {
            SecurityOpt::Seccomp(v) => {
                t.doc.security.seccomp = Some(v);
                "security.seccomp"
            }
            SecurityOpt::NoNewPrivileges(v) => {
                t.doc.security.no_new_privileges = Some(v);
                "security.no_new_privileges"
            }
            SecurityOpt::Apparmor(v) => {
                t.doc.security.apparmor = Some(v);
                "security.apparmor"
            }
        };
        t.set(key, "--security-opt", text);
    }
    for text in &a.ulimit {
        let (name, value) =
            parse::ulimit(text).map_err(|m| RunError::flag(&show("--ulimit", text), m))?;
        t.set(format!("security.rlimits.{name}"), "--ulimit", text);
        t.doc.security.rlimits.insert(name, value);
    }
    Ok(())
}

/// `--stop-signal`, `--stop-timeout`: what `box stop` does to this container.
pub fn stop(a: &RunArgs, t: &mut Translated) -> Result<(), RunError> {
    if let Some(signal) = &a.stop_signal {
        t.set("stop_signal", "--stop-signal", signal);
        t.doc.stop_signal = Some(signal.clone());
    }
    if let Some(text) = &a.stop_timeout {
        let seconds = text.parse().map_err(|_| {
            RunError::flag(
                &show("--stop-timeout", text),
                "expected a number of seconds",
            )
        })?;
        t.set("stop_timeout", "--stop-timeout", text);
        t.doc.stop_timeout = Some(seconds);
    }
    Ok(())
}
