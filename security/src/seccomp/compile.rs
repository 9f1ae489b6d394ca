//! Plan → BPF. seccompiler builds one filter per action ("segment"); box chains the
//! segments, adds the ABI guard and the ENOSYS stub in front, and checks the result.

use super::bpf::{self, jump, stmt};
use super::compiled::Compiled;
use super::link::append_segments;
use super::plan::Plan;
use super::{Action, Arch, Profile};
use crate::error::{Error, Result};

/// Bit 30 of the syscall number marks the x32 ABI on x86_64.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Builds the filter `plan` describes; `profile` is the one it was planned from.
pub(crate) fn emit(profile: &Profile, plan: Plan) -> Result<Compiled> {
    let Plan {
        arch,
        default_action,
        max_nr,
        segments,
        warnings,
    } = plan;
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
    if let (false, Some(max)) = (default_action.lets_through(), max_nr) {
        program.push(jump(bpf::BPF_JMP_JGT_K, max, 0, 1));
        program.push(stmt(
            bpf::BPF_RET_K,
            Action::Errno(libc::ENOSYS as u16).to_ret(),
        ));
    }
    if segments.is_empty() {
        program.push(stmt(bpf::BPF_RET_K, default_action.to_ret()));
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
