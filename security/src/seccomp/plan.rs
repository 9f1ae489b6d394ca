//! Profile → plan: the profile evaluated for one container (its capabilities, architecture and
//! kernel), names numbered for every ABI the filter covers, rules grouped by action. Every
//! error in what a profile asks for comes out of here; turning a plan into BPF
//! ([`super::compile`]) can only fail on the kernel's length limit or seccompiler's own, so a
//! plan is enough to validate a profile.

use std::collections::BTreeMap;

use super::compat::X32_SYSCALL_BIT;
use super::resolve::{check_names, covered_abis, number};
use super::{syscall_number, Action, Arch, ArgCondition, KernelVersion, Profile, SyscallRule};
use crate::capabilities::CapSet;
use crate::error::Result;

/// A profile evaluated for one container, ready to be compiled.
pub(crate) struct Plan {
    pub(super) native: Arch,
    pub(super) default_action: Action,
    /// One per ABI the filter covers, the native one first.
    pub(super) abis: Vec<AbiPlan>,
    /// Things the profile asked for that box does differently.
    pub(crate) warnings: Vec<String>,
}

/// The applicable rules numbered for one ABI.
pub(super) struct AbiPlan {
    pub(super) arch: Arch,
    /// The highest regular (not architecture-private) syscall number any rule names.
    pub(super) max_nr: Option<u32>,
    /// Rules grouped by action, in the order they are tried.
    pub(super) segments: Vec<Segment>,
}

/// One applicable rule with its names numbered for one ABI.
pub(super) struct Resolved {
    pub(super) action: Action,
    pub(super) nrs: Vec<u32>,
    pub(super) conditions: Vec<ArgCondition>,
}

/// Rules sharing one action; `None` = the syscall matches unconditionally.
pub(super) struct Segment {
    pub(super) action: Action,
    pub(super) syscalls: BTreeMap<u32, Option<Vec<Vec<ArgCondition>>>>,
}

/// Evaluates `profile` for a container whose bounding set is `caps`, on a host whose native
/// architecture is `native`. Rules are selected once, against the native architecture (as
/// Docker does), then numbered for every ABI the filter covers.
pub(crate) fn plan(
    profile: &Profile,
    caps: CapSet,
    native: Arch,
    kernel: KernelVersion,
) -> Result<Plan> {
    let mut warnings = Vec::new();
    let arches = covered_abis(profile, native, &mut warnings)?;
    let rules: Vec<(usize, &SyscallRule)> = profile
        .syscalls
        .iter()
        .enumerate()
        .filter(|(_, rule)| applies(rule, caps, native, kernel))
        .collect();
    for (index, rule) in &rules {
        check_names(profile, *index, rule, &arches, &mut warnings)?;
    }
    let abis = arches
        .iter()
        .map(|&arch| number(profile, &rules, arch, &mut warnings))
        .collect();
    Ok(Plan {
        native,
        default_action: profile.default_action,
        abis,
        warnings,
    })
}

impl Plan {
    /// What the compiled filter will answer for native syscall `name` with `args` (`None` if
    /// `name` is unknown here) — the same walk the BPF program makes, without building it.
    pub(crate) fn action_for(&self, name: &str, args: [u64; 6]) -> Option<Action> {
        let nr = syscall_number(self.native, name)?;
        Some(self.action(self.native, nr, args))
    }

    /// What the compiled filter will answer for syscall `nr` made through ABI `arch`.
    pub(crate) fn action(&self, arch: Arch, nr: u32, args: [u64; 6]) -> Action {
        let Some(abi) = self.abis.iter().find(|a| a.arch == arch) else {
            return Action::KillProcess;
        };
        if arch == Arch::X86_64 && nr & X32_SYSCALL_BIT != 0 {
            return Action::KillProcess;
        }
        if let (false, Some(max)) = (self.default_action.lets_through(), abi.max_nr) {
            if nr > max && arch.private_base().map_or(true, |base| nr < base) {
                return Action::Errno(libc::ENOSYS as u16);
            }
        }
        for seg in &abi.segments {
            let matched = match seg.syscalls.get(&nr) {
                None => false,
                Some(None) => true,
                Some(Some(chains)) => chains
                    .iter()
                    .any(|conds| conds.iter().all(|c| c.holds(&args))),
            };
            if matched {
                return seg.action;
            }
        }
        self.default_action
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

/// Docker's `includes` (all must hold) / `excludes` (any excludes), against the bounding set
/// and the native architecture.
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

/// Groups rules by action without changing, for any one syscall, the order its rules are
/// tried in: a rule joins the earliest same-action segment at or after the last segment that
/// already mentions one of its syscalls.
pub(super) fn segment(resolved: Vec<Resolved>, default: Action) -> Vec<Segment> {
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
