//! Linking a section's rules: a binary search on the syscall number down to one leaf per run
//! of numbers that share their outcome.
//!
//! Why a search and not a list: when a filter is installed, the kernel runs it for every
//! syscall number of every ABI it covers (~900 on x86_64) to find the ones it always allows
//! (its action cache, since 5.11). Through a list of comparisons each of those runs walks on
//! average half the program — 80 % of the time `seccomp(2)` took for Docker's profile (0.7 of
//! 0.9 ms for 760 instructions; the same program returning at its first instruction installed
//! in 0.16 ms). A search answers in ~log₂(runs) jumps, and so does every filtered syscall the
//! container makes later.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use super::bpf::{self, jump, stmt};
use super::plan::Segment;
use super::{Action, Arch, ArgCondition, CmpOp, Profile};
use crate::error::{Error, Result};

fn to_seccompiler(action: Action) -> SeccompAction {
    match action {
        Action::Allow => SeccompAction::Allow,
        Action::Errno(e) => SeccompAction::Errno(u32::from(e)),
        Action::KillThread => SeccompAction::KillThread,
        Action::KillProcess => SeccompAction::KillProcess,
        Action::Trap => SeccompAction::Trap,
        Action::Log => SeccompAction::Log,
        Action::Trace(v) => SeccompAction::Trace(u32::from(v)),
    }
}

fn to_condition(
    c: &ArgCondition,
) -> std::result::Result<SeccompCondition, seccompiler::BackendError> {
    let len = if c.low32 {
        SeccompCmpArgLen::Dword
    } else {
        SeccompCmpArgLen::Qword
    };
    let (op, value) = match c.op {
        CmpOp::Eq => (SeccompCmpOp::Eq, c.value),
        CmpOp::Ne => (SeccompCmpOp::Ne, c.value),
        CmpOp::Lt => (SeccompCmpOp::Lt, c.value),
        CmpOp::Le => (SeccompCmpOp::Le, c.value),
        CmpOp::Gt => (SeccompCmpOp::Gt, c.value),
        CmpOp::Ge => (SeccompCmpOp::Ge, c.value),
        CmpOp::MaskedEq => (SeccompCmpOp::MaskedEq(c.value), c.value_two),
    };
    SeccompCondition::new(c.index, len, op, value)
}

/// What one syscall number's rules say, in the order they are tried; the list ends at the
/// first unconditional entry.
type Entries = Vec<(Action, Option<Vec<Vec<ArgCondition>>>)>;

/// A run of syscall numbers `lo..=hi` with the same outcome.
struct Run {
    lo: u32,
    hi: u32,
    /// `Ok`: every number of the run returns this action; `Err`: one number whose rules test
    /// arguments (`lo == hi`).
    outcome: std::result::Result<Action, Entries>,
}

/// Appends the section's rules after its prologue (the syscall number is in the accumulator):
/// the runs of numbers, found by a binary search; a number no rule names gets
/// `default_action`. Rules with argument conditions are compiled by seccompiler (`native` picks
/// its generator; the numbers may be its compat ABI's), one number at a time.
pub(super) fn append_segments(
    profile: &Profile,
    native: Arch,
    default_action: Action,
    segments: Vec<Segment>,
    program: &mut Vec<seccompiler::sock_filter>,
) -> Result<()> {
    let fail = |message: String| Error::FilterCompile {
        origin: profile.origin.clone(),
        message,
    };
    let used: Vec<u32> = segments
        .iter()
        .map(|s| s.action.to_ret())
        .chain([default_action.to_ret()])
        .collect();
    let sentinel = (0..=u16::MAX)
        .rev()
        .map(Action::Trace)
        .find(|a| !used.contains(&a.to_ret()))
        .ok_or_else(|| fail("no free return value to link rules with".to_string()))?;
    let runs = runs(segments, default_action);
    let leaves = runs
        .iter()
        .map(|run| match &run.outcome {
            Ok(action) => Ok(vec![stmt(bpf::BPF_RET_K, action.to_ret())]),
            Err(entries) => conditional(run.lo, entries, native, default_action, sentinel)
                .map_err(|e| fail(e.to_string())),
        })
        .collect::<Result<Vec<_>>>()?;
    program.extend(search(&runs, leaves));
    Ok(())
}

/// Every number's entries from the segments (tried in segment order), cut into runs that cover
/// all of `0..=u32::MAX`.
fn runs(segments: Vec<Segment>, default_action: Action) -> Vec<Run> {
    let mut by_nr: BTreeMap<u32, Entries> = BTreeMap::new();
    for seg in segments {
        for (nr, conditions) in seg.syscalls {
            let entries = by_nr.entry(nr).or_default();
            if !entries.last().is_some_and(|(_, c)| c.is_none()) {
                entries.push((seg.action, conditions));
            }
        }
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut next = 0u32; // the first number not covered yet
    for (nr, entries) in by_nr {
        if nr > next {
            push(&mut runs, next, nr - 1, Ok(default_action));
        }
        let outcome = match entries.first() {
            Some((action, None)) => Ok(*action),
            _ => Err(entries),
        };
        push(&mut runs, nr, nr, outcome);
        match nr.checked_add(1) {
            Some(n) => next = n,
            None => return runs,
        }
    }
    push(&mut runs, next, u32::MAX, Ok(default_action));
    runs
}

/// Adds `lo..=hi` to `runs`, joining the last run when both return the same action.
fn push(runs: &mut Vec<Run>, lo: u32, hi: u32, outcome: std::result::Result<Action, Entries>) {
    match (runs.last_mut(), &outcome) {
        (Some(last), Ok(action)) if last.outcome.as_ref().ok() == Some(action) => last.hi = hi,
        _ => runs.push(Run { lo, hi, outcome }),
    }
}

/// A binary search over `runs` (whose code is `leaves`): each node is `jgt K` to the upper
/// half, through a `ja` when the lower half is too long for an 8-bit jump.
fn search(
    runs: &[Run],
    mut leaves: Vec<Vec<seccompiler::sock_filter>>,
) -> Vec<seccompiler::sock_filter> {
    if leaves.len() == 1 {
        return leaves.remove(0);
    }
    let mid = runs.len() / 2;
    let upper_leaves = leaves.split_off(mid);
    let lower = search(&runs[..mid], leaves);
    let upper = search(&runs[mid..], upper_leaves);
    let k = runs[mid - 1].hi;
    let mut code = Vec::with_capacity(lower.len() + upper.len() + 2);
    match u8::try_from(lower.len()) {
        Ok(skip) => code.push(jump(bpf::BPF_JMP_JGT_K, k, skip, 0)),
        Err(_) => {
            code.push(jump(bpf::BPF_JMP_JGT_K, k, 0, 1));
            code.push(stmt(bpf::BPF_JMP_JA, lower.len() as u32));
        }
    }
    code.extend(lower);
    code.extend(upper);
    code
}

/// The leaf of a number whose rules test arguments: each entry in turn (seccompiler's chain
/// for it, whose "no match" return becomes a jump to the next entry), then `default_action`.
fn conditional(
    nr: u32,
    entries: &Entries,
    native: Arch,
    default_action: Action,
    sentinel: Action,
) -> std::result::Result<Vec<seccompiler::sock_filter>, String> {
    let mut code = Vec::new();
    let mut pending: Vec<usize> = Vec::new(); // sentinel returns waiting for the next entry
    let mut ended = false;
    for (action, conditions) in entries {
        let start = code.len();
        for pos in pending.drain(..) {
            code[pos] = stmt(bpf::BPF_JMP_JA, (start - pos - 1) as u32);
        }
        let Some(list) = conditions else {
            code.push(stmt(bpf::BPF_RET_K, action.to_ret()));
            ended = true;
            break;
        };
        let chain = list
            .iter()
            .map(|conds| {
                let conds = conds
                    .iter()
                    .map(to_condition)
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                SeccompRule::new(conds)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let filter = SeccompFilter::new(
            BTreeMap::from([(i64::from(nr), chain)]),
            to_seccompiler(sentinel),
            to_seccompiler(*action),
            native.target(),
        )
        .map_err(|e| e.to_string())?;
        let body: BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| e.to_string())?;
        // seccompiler starts every program with its own 3-instruction arch check; box's
        // dispatch already did that, so it is cut off (after making sure it is what we think).
        let expected_prologue = [
            stmt(bpf::BPF_LD_W_ABS, bpf::DATA_ARCH),
            jump(bpf::BPF_JMP_JEQ_K, native.audit_arch(), 1, 0),
            stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        ];
        if body.len() < 4 || body[..3] != expected_prologue {
            return Err("seccompiler emitted an unexpected program layout".to_string());
        }
        for insn in &body[3..] {
            if insn.code == bpf::BPF_RET_K && insn.k == sentinel.to_ret() {
                pending.push(code.len());
            }
            code.push(insn.clone());
        }
    }
    if !ended {
        let end = code.len();
        for pos in pending {
            code[pos] = stmt(bpf::BPF_JMP_JA, (end - pos - 1) as u32);
        }
        code.push(stmt(bpf::BPF_RET_K, default_action.to_ret()));
    }
    Ok(code)
}
