//! `process` (config.json's, or `exec --process`'s file): the command, its environment and
//! identity, its five capability sets, rlimits, no_new_privs and LSM labels.

use oci_spec::runtime::{Capabilities as OciCaps, Process as OciProcess};

use box_launcher::Process;
use box_security::{
    CapSet, Capabilities, Resource, Rlimit, SeccompConfig, SecurityConfig, UserSpec,
};

use super::{invalid, unsupported, ConvertError};

/// A process in box's terms: what the launcher runs, and its share of the security config
/// (seccomp is the container's, set by the caller).
#[derive(Debug, Clone)]
pub struct ProcessParts {
    pub process: Process,
    pub security: SecurityConfig,
    pub oom_score_adj: Option<i32>,
    pub umask: Option<u32>,
    /// `consoleSize`: rows and columns of the terminal, set on it before it is handed on.
    pub console_size: Option<(u16, u16)>,
}

/// Converts `p`; `at` names it in errors (`process`, or the `--process` file).
pub fn process(p: &OciProcess, at: &str) -> Result<ProcessParts, ConvertError> {
    let field = |name: &str| format!("{at}.{name}");
    let args = p.args().clone().unwrap_or_default();
    if args.is_empty() {
        return Err(invalid(&field("args"), "empty: there is no command to run"));
    }
    if p.command_line().as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(unsupported(&field("commandLine"), "Windows only"));
    }
    if p.io_priority().is_some() {
        return Err(unsupported(
            &field("ioPriority"),
            "box sets no I/O priority",
        ));
    }
    if p.scheduler().is_some() {
        return Err(unsupported(
            &field("scheduler"),
            "box sets no scheduling policy",
        ));
    }
    if p.exec_cpu_affinity().is_some() {
        return Err(unsupported(
            &field("execCPUAffinity"),
            "box sets no CPU affinity",
        ));
    }
    let cwd = p.cwd().clone();
    if !cwd.is_absolute() {
        return Err(invalid(&field("cwd"), "must be an absolute path"));
    }
    let user = p.user();
    if user.username().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(unsupported(&field("user.username"), "Windows only"));
    }
    let security = SecurityConfig {
        capabilities: capabilities(p.capabilities().as_ref(), &field("capabilities"))?,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
        // The container's (`linux.seccomp`), set by the caller.
        seccomp: SeccompConfig::Unconfined,
        rlimits: rlimits(p, &field("rlimits"))?,
        apparmor_profile: p.apparmor_profile().clone().filter(|a| !a.is_empty()),
        selinux_label: p.selinux_label().clone().filter(|s| !s.is_empty()),
        user: UserSpec {
            uid: user.uid(),
            gid: user.gid(),
            additional_gids: user.additional_gids().clone().unwrap_or_default(),
        },
    };
    let console_size = p.console_size().map(|b| {
        let clamp = |v: u64| u16::try_from(v).unwrap_or(u16::MAX);
        (clamp(b.height()), clamp(b.width()))
    });
    Ok(ProcessParts {
        process: Process {
            args,
            env: p.env().clone().unwrap_or_default(),
            cwd,
            tty: p.terminal().unwrap_or(false),
        },
        security,
        oom_score_adj: p.oom_score_adj(),
        umask: user.umask(),
        console_size,
    })
}

/// The five sets as given; a set left out is empty (as runc has it).
fn capabilities(
    caps: Option<&oci_spec::runtime::LinuxCapabilities>,
    at: &str,
) -> Result<Capabilities, ConvertError> {
    let Some(caps) = caps else {
        return Ok(Capabilities {
            bounding: CapSet::EMPTY,
            effective: CapSet::EMPTY,
            inheritable: CapSet::EMPTY,
            permitted: CapSet::EMPTY,
            ambient: CapSet::EMPTY,
        });
    };
    let set = |name: &str, s: &Option<OciCaps>| -> Result<CapSet, ConvertError> {
        let Some(s) = s else {
            return Ok(CapSet::EMPTY);
        };
        let names =
            serde_json::to_value(s).map_err(|e| invalid(&format!("{at}.{name}"), e.to_string()))?;
        serde_json::from_value(names).map_err(|e| invalid(&format!("{at}.{name}"), e.to_string()))
    };
    Ok(Capabilities {
        bounding: set("bounding", caps.bounding())?,
        effective: set("effective", caps.effective())?,
        inheritable: set("inheritable", caps.inheritable())?,
        permitted: set("permitted", caps.permitted())?,
        ambient: set("ambient", caps.ambient())?,
    })
}

fn rlimits(p: &OciProcess, at: &str) -> Result<Vec<Rlimit>, ConvertError> {
    let mut out = Vec::new();
    for limit in p.rlimits().clone().unwrap_or_default() {
        let name = serde_json::to_value(limit.typ())
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let resource = Resource::parse(&name)
            .ok_or_else(|| invalid(at, format!("unknown resource {name:?}")))?;
        out.push(Rlimit {
            resource,
            soft: limit.soft(),
            hard: limit.hard(),
        });
    }
    Ok(out)
}
