//! Profile → plan: the profile evaluated for one container (its capabilities, architecture and
//! kernel), names numbered, rules grouped by action. Every error in what a profile asks for
//! comes out of here; turning a plan into BPF ([`super::compile`]) can only fail on the
//! kernel's length limit or seccompiler's own, so a plan is enough to validate a profile.

use std::collections::BTreeMap;

use super::{
    known_anywhere, syscall_number, Action, Arch, ArgCondition, KernelVersion, Profile, SyscallRule,
};
use crate::capabilities::CapSet;
use crate::error::{Error, Result};

/// A profile evaluated for one container, ready to be compiled.
pub(crate) struct Plan {
    pub(super) arch: Arch,
    pub(super) default_action: Action,
    /// The highest syscall number any applicable rule names.
    pub(super) max_nr: Option<u32>,
    /// Rules grouped by action, in the order they are tried.
    pub(super) segments: Vec<Segment>,
    /// Things the profile asked for that box does differently.
    pub(crate) warnings: Vec<String>,
}

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

/// Evaluates `profile` for a container whose bounding set is `caps`.
pub(crate) fn plan(
    profile: &Profile,
    caps: CapSet,
    arch: Arch,
    kernel: KernelVersion,
) -> Result<Plan> {
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
    Ok(Plan {
        arch,
        default_action: profile.default_action,
        max_nr,
        segments: segment(resolved, profile.default_action),
        warnings,
    })
}

impl Plan {
    /// What the compiled filter will answer for native syscall `name` with `args` (`None` if
    /// `name` is unknown here) — the same walk the BPF program makes, without building it.
    pub(crate) fn action_for(&self, name: &str, args: [u64; 6]) -> Option<Action> {
        let nr = syscall_number(self.arch, name)?;
        if let (false, Some(max)) = (self.default_action.lets_through(), self.max_nr) {
            if nr > max {
                return Some(Action::Errno(libc::ENOSYS as u16));
            }
        }
        for seg in &self.segments {
            let matched = match seg.syscalls.get(&nr) {
                None => false,
                Some(None) => true,
                Some(Some(chains)) => chains
                    .iter()
                    .any(|conds| conds.iter().all(|c| c.holds(&args))),
            };
            if matched {
                return Some(seg.action);
            }
        }
        Some(self.default_action)
    }
}

impl ArgCondition {
    /// Whether the condition holds for these arguments (as the filter compares them).
    fn holds(&self, args: &[u64; 6]) -> bool {
        let width = |v: u64| if self.low32 { v & 0xffff_ffff } else { v };
        let arg = width(args[usize::from(self.index).min(5)]);
        let value = width(self.value);
        match self.op {
            super::CmpOp::Eq => arg == value,
            super::CmpOp::Ne => arg != value,
            super::CmpOp::Lt => arg < value,
            super::CmpOp::Le => arg <= value,
            super::CmpOp::Gt => arg > value,
            super::CmpOp::Ge => arg >= value,
            super::CmpOp::MaskedEq => arg & value == width(self.value_two),
        }
    }
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
