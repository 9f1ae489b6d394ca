//! Profile → BPF. seccompiler builds one filter per action ("segment"); box chains the
//! segments, adds the ABI guard and the ENOSYS stub in front, and checks the result.

use std::collections::BTreeMap;

use super::bpf::{self, jump, stmt};
use super::compiled::Compiled;
use super::link::append_segments;
use super::{
    known_anywhere, syscall_number, Action, Arch, ArgCondition, KernelVersion, Profile, SyscallRule,
};
use crate::capabilities::CapSet;
use crate::error::{Error, Result};

/// Bit 30 of the syscall number marks the x32 ABI on x86_64.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// One applicable rule with its names numbered.
struct Resolved {
    action: Action,
    nrs: Vec<u32>,
    conditions: Vec<ArgCondition>,
}

/// Rules sharing one action; `None` = the syscall matches unconditionally.
pub(super) struct Segment {
    pub(super) action: Action,
    pub(super) syscalls: BTreeMap<u32, Option<Vec<Vec<ArgCondition>>>>,
}

fn profile_error(profile: &Profile, location: String, message: String) -> Error {
    Error::Profile {
        origin: profile.origin.clone(),
        location,
        message,
    }
}

pub(super) fn compile(
    profile: &Profile,
    caps: CapSet,
    arch: Arch,
    kernel: KernelVersion,
) -> Result<Compiled> {
    let mut warnings = Vec::new();
    check_architectures(profile, arch, &mut warnings)?;
    let mut resolved = Vec::new();
    for (index, rule) in profile.syscalls.iter().enumerate() {
        if applies(rule, caps, arch, kernel) {
            if let Some(r) = resolve(profile, index, rule, arch, &mut warnings)? {
                resolved.push(r);
            }
        }
    }
    let max_nr = resolved.iter().flat_map(|r| r.nrs.iter().copied()).max();
    let segments = segment(resolved, profile.default_action);

    let mut program = vec![
        stmt(bpf::BPF_LD_W_ABS, bpf::DATA_ARCH),
        jump(bpf::BPF_JMP_JEQ_K, arch.audit_arch(), 1, 0),
        stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(bpf::BPF_LD_W_ABS, bpf::DATA_NR),
    ];
    if arch == Arch::X86_64 {
        program.push(jump(bpf::BPF_JMP_JSET_K, X32_SYSCALL_BIT, 0, 1));
        program.push(stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS));
    }
    if let (false, Some(max)) = (profile.default_action.lets_through(), max_nr) {
        program.push(jump(bpf::BPF_JMP_JGT_K, max, 0, 1));
        program.push(stmt(
            bpf::BPF_RET_K,
            Action::Errno(libc::ENOSYS as u16).to_ret(),
        ));
    }
    if segments.is_empty() {
        program.push(stmt(bpf::BPF_RET_K, profile.default_action.to_ret()));
    } else {
        append_segments(profile, arch, segments, &mut program)?;
    }
    if program.len() > bpf::MAX_INSNS {
        return Err(Error::FilterCompile {
            origin: profile.origin.clone(),
            message: format!(
                "{} BPF instructions, the kernel accepts at most {}",
                program.len(),
                bpf::MAX_INSNS
            ),
        });
    }
    Ok(Compiled {
        arch,
        program,
        flags: profile.flags,
        warnings,
    })
}

/// The host architecture must be listed (or nothing be listed); other ABIs cannot be filtered.
fn check_architectures(profile: &Profile, arch: Arch, warnings: &mut Vec<String>) -> Result<()> {
    let listed: Vec<&str> = if !profile.architectures.is_empty() {
        profile.architectures.iter().map(String::as_str).collect()
    } else if let Some(entry) = profile
        .arch_map
        .iter()
        .find(|e| e.architecture == arch.scmp_name())
    {
        std::iter::once(entry.architecture.as_str())
            .chain(entry.sub_architectures.iter().map(String::as_str))
            .collect()
    } else {
        Vec::new()
    };
    if listed.is_empty() {
        return Ok(());
    }
    if !listed.contains(&arch.scmp_name()) {
        return Err(profile_error(
            profile,
            "architectures".to_string(),
            format!(
                "the host architecture {} is not listed, so every syscall would be refused",
                arch.scmp_name()
            ),
        ));
    }
    let others: Vec<&str> = listed
        .into_iter()
        .filter(|a| *a != arch.scmp_name())
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "{}: box filters only the native {} ABI; syscalls from {} kill the process (SIGSYS) instead of following the profile",
            profile.origin,
            arch.scmp_name(),
            others.join(", ")
        ));
    }
    Ok(())
}

/// Docker's `includes` (all must hold) / `excludes` (any excludes), against the bounding set.
fn applies(rule: &SyscallRule, caps: CapSet, arch: Arch, kernel: KernelVersion) -> bool {
    let inc = &rule.includes;
    let exc = &rule.excludes;
    inc.caps.iter().all(|c| caps.contains(*c))
        && (inc.arches.is_empty() || inc.arches.iter().any(|a| arch.matches_name(a)))
        && inc.min_kernel.map_or(true, |min| kernel >= min)
        && !exc.caps.iter().any(|c| caps.contains(*c))
        && !exc.arches.iter().any(|a| arch.matches_name(a))
        && exc.min_kernel.map_or(true, |min| kernel < min)
}

/// Numbers the rule's names. A name the architecture lacks is skipped when that cannot let
/// anything through that the profile meant to stop (Docker skips them all).
fn resolve(
    profile: &Profile,
    index: usize,
    rule: &SyscallRule,
    arch: Arch,
    warnings: &mut Vec<String>,
) -> Result<Option<Resolved>> {
    let mut nrs = Vec::with_capacity(rule.names.len());
    for (j, name) in rule.names.iter().enumerate() {
        if let Some(nr) = syscall_number(arch, name) {
            nrs.push(nr);
            continue;
        }
        if rule.action.severity() <= profile.default_action.severity() {
            continue; // the default already treats it at least as strictly
        }
        if known_anywhere(name) {
            warnings.push(format!(
                "{}: syscalls[{index}]: {name} does not exist on {:?}; its rule is skipped",
                profile.origin, arch
            ));
            continue;
        }
        return Err(profile_error(
            profile,
            format!("syscalls[{index}].names[{j}]"),
            format!("unknown syscall {name:?}: box cannot restrict a syscall it cannot number"),
        ));
    }
    if nrs.is_empty() {
        return Ok(None);
    }
    Ok(Some(Resolved {
        action: rule.action,
        nrs,
        conditions: rule.args.clone(),
    }))
}

/// Groups rules by action without changing, for any one syscall, the order its rules are
/// tried in: a rule joins the earliest same-action segment at or after the last segment that
/// already mentions one of its syscalls.
fn segment(resolved: Vec<Resolved>, default: Action) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for r in resolved {
        let last_touch = segments
            .iter()
            .rposition(|s| r.nrs.iter().any(|nr| s.syscalls.contains_key(nr)))
            .unwrap_or(0);
        let k = match (last_touch..segments.len()).find(|&k| segments[k].action == r.action) {
            Some(k) => k,
            None => {
                segments.push(Segment {
                    action: r.action,
                    syscalls: BTreeMap::new(),
                });
                segments.len() - 1
            }
        };
        for nr in r.nrs {
            let entry = segments[k]
                .syscalls
                .entry(nr)
                .or_insert_with(|| Some(Vec::new()));
            match (entry, r.conditions.is_empty()) {
                (slot, true) => *slot = None,
                (Some(list), false) => list.push(r.conditions.clone()),
                (None, false) => {} // already unconditional
            }
        }
    }
    // A trailing segment whose action is the default changes nothing.
    while segments.last().is_some_and(|s| s.action == default) {
        segments.pop();
    }
    segments
}
