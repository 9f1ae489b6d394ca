//! Plan → BPF. One section per covered ABI: the rules grouped by action ("segments",
//! [`super::link`]) behind the x32 guard and the ENOSYS stub.
//! A dispatch on `seccomp_data.arch` leads to each section; any other ABI is killed.

use super::bpf::{self, jump, stmt};
use super::compat::X32_SYSCALL_BIT;
use super::compiled::Compiled;
use super::link::append_segments;
use super::plan::{AbiPlan, Plan};
use super::{Action, Arch, Profile};
use crate::error::{Error, Result};
use seccompiler::sock_filter;

/// Builds the filter `plan` describes; `profile` is the one it was planned from.
pub(crate) fn emit(profile: &Profile, plan: Plan) -> Result<Compiled> {
    let Plan {
        native,
        default_action,
        abis,
        warnings,
    } = plan;
    let arches: Vec<Arch> = abis.iter().map(|a| a.arch).collect();
    let mut sections = Vec::with_capacity(abis.len());
    for abi in abis {
        sections.push(section(profile, native, default_action, abi)?);
    }
    let program = dispatch(&arches, sections);
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
        arch: native,
        arches,
        program,
        flags: profile.flags,
        warnings,
    })
}

/// The program for one ABI, from loading the syscall number to its last return.
fn section(
    profile: &Profile,
    native: Arch,
    default_action: Action,
    abi: AbiPlan,
) -> Result<Vec<sock_filter>> {
    let AbiPlan {
        arch,
        max_nr,
        segments,
    } = abi;
    let mut program = vec![stmt(bpf::BPF_LD_W_ABS, bpf::DATA_NR)];
    if arch == Arch::X86_64 {
        // x32 shares AUDIT_ARCH_X86_64; its numbers carry bit 30.
        program.push(jump(bpf::BPF_JMP_JSET_K, X32_SYSCALL_BIT, 0, 1));
        program.push(stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS));
    }
    if let (false, Some(max)) = (default_action.lets_through(), max_nr) {
        match arch.private_base() {
            None => program.push(jump(bpf::BPF_JMP_JGT_K, max, 0, 1)),
            Some(base) => {
                // Only max < nr < base is "newer than the profile".
                program.push(jump(bpf::BPF_JMP_JGT_K, max, 0, 2));
                program.push(jump(bpf::BPF_JMP_JGE_K, base, 1, 0));
            }
        }
        program.push(stmt(
            bpf::BPF_RET_K,
            Action::Errno(libc::ENOSYS as u16).to_ret(),
        ));
    }
    append_segments(profile, native, default_action, segments, &mut program)?;
    Ok(program)
}

/// Joins the sections (native first) behind a dispatch on the ABI:
///
/// ```text
///     ld arch; jeq NATIVE → native
///     jeq COMPAT, 0, 1; ja compat      (per compat ABI)
///     ret KILL_PROCESS
/// native: ...
/// compat: ...
/// ```
///
/// With only the native ABI this is the usual three-instruction architecture check.
fn dispatch(arches: &[Arch], sections: Vec<Vec<sock_filter>>) -> Vec<sock_filter> {
    let compat = &arches[1..];
    let skip_to_native = (2 * compat.len() + 1) as u8; // at most one compat ABI per native one
    let mut program = vec![
        stmt(bpf::BPF_LD_W_ABS, bpf::DATA_ARCH),
        jump(
            bpf::BPF_JMP_JEQ_K,
            arches[0].audit_arch(),
            skip_to_native,
            0,
        ),
    ];
    let mut pending = Vec::with_capacity(compat.len());
    for arch in compat {
        program.push(jump(bpf::BPF_JMP_JEQ_K, arch.audit_arch(), 0, 1));
        pending.push(program.len());
        program.push(stmt(bpf::BPF_JMP_JA, 0));
    }
    program.push(stmt(bpf::BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS));
    for (k, section) in sections.into_iter().enumerate() {
        if k > 0 {
            let at = pending[k - 1];
            program[at].k = (program.len() - at - 1) as u32;
        }
        program.extend(section);
    }
    program
}
