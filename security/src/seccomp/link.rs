//! Linking per-action segments into one section of the filter.

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

/// Links the segments: a syscall the segment names unconditionally returns its action from a
/// compact list of comparisons box emits itself (one instruction per syscall; seccompiler's
/// would take four); the ones with argument conditions are compiled by seccompiler, whose "no
/// match" return is a sentinel that becomes a jump to the next segment. After the last
/// segment comes the default action. `native` picks seccompiler's generator; the numbers may
/// be its compat ABI's (the generator's only arch-specific output is its prologue, which is
/// checked and cut off).
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
        .ok_or_else(|| fail("no free return value to link segments with".to_string()))?;
    let mut pending: Vec<usize> = Vec::new(); // sentinel returns waiting for the next segment
    for seg in segments {
        let start = program.len();
        for pos in pending.drain(..) {
            program[pos] = stmt(bpf::BPF_JMP_JA, (start - pos - 1) as u32);
        }
        let mut plain = Vec::new();
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for (nr, conditions) in seg.syscalls {
            let Some(list) = conditions else {
                plain.push(nr);
                continue;
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
                .map_err(|e| fail(e.to_string()))?;
            rules.insert(i64::from(nr), chain);
        }
        append_plain(&plain, seg.action, program);
        if rules.is_empty() {
            continue; // no match falls through to the next segment
        }
        let filter = SeccompFilter::new(
            rules,
            to_seccompiler(sentinel),
            to_seccompiler(seg.action),
            native.target(),
        )
        .map_err(|e| fail(e.to_string()))?;
        let body: BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| fail(e.to_string()))?;
        // seccompiler starts every program with its own 3-instruction arch check; box's
        // dispatch already did that, so it is cut off (after making sure it is what we think).
        let expected_prologue = [
            stmt(bpf::BPF_LD_W_ABS, bpf::DATA_ARCH),
            jump(bpf::BPF_JMP_JEQ_K, native.audit_arch(), 1, 0),
            stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        ];
        if body.len() < 4 || body[..3] != expected_prologue {
            return Err(fail(
                "seccompiler emitted an unexpected program layout".to_string(),
            ));
        }
        for insn in &body[3..] {
            if insn.code == bpf::BPF_RET_K && insn.k == sentinel.to_ret() {
                pending.push(program.len());
            }
            program.push(insn.clone());
        }
    }
    // Whatever no segment matched (sentinels included) gets the default action.
    let end = program.len();
    for pos in pending {
        program[pos] = stmt(bpf::BPF_JMP_JA, (end - pos - 1) as u32);
    }
    program.push(stmt(bpf::BPF_RET_K, default_action.to_ret()));
    Ok(())
}

/// `nr == n₁ || nr == n₂ || ... → return action`, falling through otherwise, in chunks short
/// enough for the 8-bit jump offsets of classic BPF.
fn append_plain(nrs: &[u32], action: Action, program: &mut Vec<seccompiler::sock_filter>) {
    if nrs.is_empty() {
        return;
    }
    // A seccompiler chain before may have left an argument in the accumulator.
    program.push(stmt(bpf::BPF_LD_W_ABS, bpf::DATA_NR));
    for chunk in nrs.chunks(usize::from(u8::MAX) - 1) {
        let n = chunk.len();
        for (i, &nr) in chunk.iter().enumerate() {
            // Jump over the remaining comparisons and the `ja` to the `ret`.
            program.push(jump(bpf::BPF_JMP_JEQ_K, nr, (n - i) as u8, 0));
        }
        program.push(stmt(bpf::BPF_JMP_JA, 1));
        program.push(stmt(bpf::BPF_RET_K, action.to_ret()));
    }
}
