//! Docker/OCI JSON seccomp profiles → [`Profile`]. Every error names the file and the entry.

use serde::Deserialize;
use serde_json::Value;

use super::{
    Action, Applicability, ArchMapEntry, ArgCondition, CmpOp, KernelVersion, Profile, SyscallRule,
};
use crate::capabilities::parse_capability;
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawProfile {
    default_action: String,
    default_errno_ret: Option<u32>,
    architectures: Option<Vec<String>>,
    arch_map: Option<Vec<RawArchMap>>,
    syscalls: Option<Vec<Value>>,
    flags: Option<Vec<String>>,
    listener_path: Option<String>,
    listener_metadata: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArchMap {
    architecture: String,
    sub_architectures: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSyscall {
    names: Option<Vec<String>>,
    name: Option<String>,
    action: String,
    errno_ret: Option<u32>,
    args: Option<Vec<RawArg>>,
    #[allow(dead_code)] // accepted and ignored, as Docker does
    comment: Option<String>,
    includes: Option<RawFilter>,
    excludes: Option<RawFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawFilter {
    arches: Option<Vec<String>>,
    caps: Option<Vec<String>>,
    min_kernel: Option<String>,
}

/// libseccomp architecture names a profile may list.
const SCMP_ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// The `flags` a profile may give, with their `SECCOMP_FILTER_FLAG_*` bits.
pub(super) const FLAGS: [(&str, u32); 3] = [
    (
        "SECCOMP_FILTER_FLAG_TSYNC",
        libc::SECCOMP_FILTER_FLAG_TSYNC as u32,
    ),
    (
        "SECCOMP_FILTER_FLAG_LOG",
        libc::SECCOMP_FILTER_FLAG_LOG as u32,
    ),
    (
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32,
    ),
];

/// libseccomp's comparison names.
pub(super) const OPS: [(&str, CmpOp); 7] = [
    ("SCMP_CMP_EQ", CmpOp::Eq),
    ("SCMP_CMP_NE", CmpOp::Ne),
    ("SCMP_CMP_LT", CmpOp::Lt),
    ("SCMP_CMP_LE", CmpOp::Le),
    ("SCMP_CMP_GT", CmpOp::Gt),
    ("SCMP_CMP_GE", CmpOp::Ge),
    ("SCMP_CMP_MASKED_EQ", CmpOp::MaskedEq),
];

/// The largest errno the kernel passes through (MAX_ERRNO).
const MAX_ERRNO: u32 = 4095;

#[derive(Clone, Copy)]
struct Ctx<'a> {
    origin: &'a str,
}

impl Ctx<'_> {
    fn err(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Profile {
            origin: self.origin.to_string(),
            location: location.into(),
            message: message.into(),
        }
    }
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Profile> {
    let cx = Ctx { origin };
    let raw: RawProfile = serde_json::from_str(text).map_err(|e| {
        cx.err(
            format!("line {} column {}", e.line(), e.column()),
            strip_position(&e.to_string()),
        )
    })?;
    from_raw(cx, raw)
}

/// [`parse`] of a document already parsed as JSON (an OCI config's `linux.seccomp`).
pub(super) fn parse_value(value: Value, origin: &str) -> Result<Profile> {
    let cx = Ctx { origin };
    let raw: RawProfile =
        serde_json::from_value(value).map_err(|e| cx.err("top level", e.to_string()))?;
    from_raw(cx, raw)
}

fn from_raw(cx: Ctx<'_>, raw: RawProfile) -> Result<Profile> {
    if raw.listener_path.is_some() || raw.listener_metadata.is_some() {
        return Err(cx.err(
            "listenerPath",
            "seccomp user notification (a listener agent) is not supported by box",
        ));
    }
    let default_action = action(
        &cx,
        "defaultAction",
        &raw.default_action,
        raw.default_errno_ret,
        "defaultErrnoRet",
    )?;
    let architectures = raw.architectures.unwrap_or_default();
    for (i, arch) in architectures.iter().enumerate() {
        check_scmp_arch(&cx, &format!("architectures[{i}]"), arch)?;
    }
    let arch_map = raw.arch_map.unwrap_or_default();
    if !architectures.is_empty() && !arch_map.is_empty() {
        return Err(cx.err("archMap", "use either architectures or archMap, not both"));
    }
    let mut map = Vec::with_capacity(arch_map.len());
    for (i, entry) in arch_map.into_iter().enumerate() {
        check_scmp_arch(
            &cx,
            &format!("archMap[{i}].architecture"),
            &entry.architecture,
        )?;
        let subs = entry.sub_architectures.unwrap_or_default();
        for (j, sub) in subs.iter().enumerate() {
            check_scmp_arch(&cx, &format!("archMap[{i}].subArchitectures[{j}]"), sub)?;
        }
        map.push(ArchMapEntry {
            architecture: entry.architecture,
            sub_architectures: subs,
        });
    }
    let mut flags = 0;
    for (i, flag) in raw.flags.unwrap_or_default().iter().enumerate() {
        let Some((_, bit)) = FLAGS.iter().find(|(name, _)| name == flag) else {
            return Err(cx.err(format!("flags[{i}]"), format!("unsupported flag {flag:?}")));
        };
        flags |= bit;
    }
    let mut syscalls = Vec::new();
    for (i, value) in raw.syscalls.unwrap_or_default().into_iter().enumerate() {
        syscalls.push(syscall(&cx, i, value)?);
    }
    Ok(Profile {
        origin: cx.origin.to_string(),
        default_action,
        architectures,
        arch_map: map,
        flags,
        syscalls,
    })
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(pos) => message[..pos].to_string(),
        None => message.to_string(),
    }
}

fn check_scmp_arch(cx: &Ctx, location: &str, arch: &str) -> Result<()> {
    if SCMP_ARCHES.contains(&arch) {
        Ok(())
    } else {
        Err(cx.err(location, format!("unknown architecture {arch:?}")))
    }
}

fn action(
    cx: &Ctx,
    location: &str,
    name: &str,
    errno_ret: Option<u32>,
    errno_key: &str,
) -> Result<Action> {
    let errno = |default: u32| -> Result<u16> {
        let value = errno_ret.unwrap_or(default);
        if value > MAX_ERRNO {
            return Err(cx.err(
                location,
                format!("{errno_key} {value} is above the largest errno {MAX_ERRNO}"),
            ));
        }
        Ok(value as u16)
    };
    let takes_errno = matches!(name, "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE");
    if errno_ret.is_some() && !takes_errno {
        return Err(cx.err(
            location,
            format!(
                "{errno_key} is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {name}"
            ),
        ));
    }
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(errno(libc::EPERM as u32)?),
        "SCMP_ACT_TRACE" => Action::Trace(errno(libc::EPERM as u32)?),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_NOTIFY" => {
            return Err(cx.err(
                location,
                "SCMP_ACT_NOTIFY needs a seccomp agent, which box does not support",
            ))
        }
        other => return Err(cx.err(location, format!("unknown action {other:?}"))),
    })
}

fn syscall(cx: &Ctx, index: usize, value: Value) -> Result<SyscallRule> {
    let at = format!("syscalls[{index}]");
    let raw: RawSyscall = serde_json::from_value(value).map_err(|e| cx.err(&at, e.to_string()))?;
    let names = match (raw.names, raw.name) {
        (Some(names), None) if !names.is_empty() => names,
        (None, Some(name)) => vec![name],
        (Some(names), Some(_)) if !names.is_empty() => {
            return Err(cx.err(&at, "use either \"name\" or \"names\", not both"))
        }
        _ => return Err(cx.err(&at, "no syscall names")),
    };
    if let Some(pos) = names.iter().position(|n| n.trim().is_empty()) {
        return Err(cx.err(format!("{at}.names[{pos}]"), "empty syscall name"));
    }
    let action = action(cx, &at, &raw.action, raw.errno_ret, "errnoRet")?;
    let mut args = Vec::new();
    for (i, arg) in raw.args.unwrap_or_default().into_iter().enumerate() {
        args.push(condition(cx, &format!("{at}.args[{i}]"), arg)?);
    }
    Ok(SyscallRule {
        names,
        action,
        args,
        includes: applicability(
            cx,
            &format!("{at}.includes"),
            raw.includes.unwrap_or_default(),
        )?,
        excludes: applicability(
            cx,
            &format!("{at}.excludes"),
            raw.excludes.unwrap_or_default(),
        )?,
    })
}

fn condition(cx: &Ctx, at: &str, raw: RawArg) -> Result<ArgCondition> {
    if raw.index > 5 {
        return Err(cx.err(
            at,
            format!("argument index {} is out of range 0..=5", raw.index),
        ));
    }
    let Some(&(_, op)) = OPS.iter().find(|(name, _)| *name == raw.op) else {
        return Err(cx.err(at, format!("unknown comparison {:?}", raw.op)));
    };
    if op == CmpOp::MaskedEq && raw.value_two & !raw.value != 0 {
        // libseccomp would build a rule that never matches; seccompiler would mask valueTwo
        // and match. Neither is what the author meant.
        return Err(cx.err(
            at,
            format!(
                "valueTwo {:#x} has bits outside the mask {:#x}, so the condition could never hold",
                raw.value_two, raw.value
            ),
        ));
    }
    Ok(ArgCondition {
        index: raw.index as u8,
        op,
        value: raw.value,
        value_two: raw.value_two,
        low32: false,
    })
}

fn applicability(cx: &Ctx, at: &str, raw: RawFilter) -> Result<Applicability> {
    let mut caps = Vec::new();
    for (i, name) in raw.caps.unwrap_or_default().iter().enumerate() {
        let cap = parse_capability(name).ok_or_else(|| {
            cx.err(
                format!("{at}.caps[{i}]"),
                format!("unknown capability {name:?}"),
            )
        })?;
        caps.push(cap);
    }
    let min_kernel = match raw.min_kernel {
        None => None,
        Some(text) => Some(parse_min_kernel(&text).ok_or_else(|| {
            cx.err(
                format!("{at}.minKernel"),
                format!("{text:?} is not a kernel version like \"4.8\""),
            )
        })?),
    };
    Ok(Applicability {
        caps,
        arches: raw.arches.unwrap_or_default(),
        min_kernel,
    })
}

fn parse_min_kernel(text: &str) -> Option<KernelVersion> {
    let (major, minor) = text.split_once('.')?;
    Some(KernelVersion {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}
