//! The few classic-BPF instructions box emits around seccompiler's output, and an interpreter
//! for the same subset so tests (and `box inspect`) can ask "what happens to syscall X?".

use seccompiler::sock_filter;

// Instruction classes and fields from <linux/bpf_common.h> (BPF_LD = 0, BPF_W = 0).
pub(super) const BPF_LD_W_ABS: u16 = 0x20;
pub(super) const BPF_ALU_AND_K: u16 = 0x04 | 0x50;
pub(super) const BPF_JMP_JA: u16 = 0x05;
pub(super) const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
pub(super) const BPF_JMP_JGT_K: u16 = 0x05 | 0x20;
pub(super) const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
pub(super) const BPF_JMP_JSET_K: u16 = 0x05 | 0x40;
pub(super) const BPF_RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
pub(super) const DATA_NR: u32 = 0;
pub(super) const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;

/// The kernel's limit on filter length (BPF_MAXINSNS).
pub(super) const MAX_INSNS: usize = 4096;

pub(super) fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

pub(super) fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// What the kernel hands a filter (`struct seccomp_data`), for [`super::Compiled::evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeccompData {
    /// Syscall number (as the kernel sees it: x32 calls have bit 30 set).
    pub nr: u32,
    /// `AUDIT_ARCH_*` of the calling ABI.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    fn word(&self, offset: u32) -> Option<u32> {
        let lo = |v: u64| v as u32;
        let hi = |v: u64| (v >> 32) as u32;
        match offset {
            0 => Some(self.nr),
            4 => Some(self.arch),
            8 => Some(lo(self.instruction_pointer)),
            12 => Some(hi(self.instruction_pointer)),
            o if (DATA_ARGS..DATA_ARGS + 48).contains(&o) && o % 4 == 0 => {
                let arg = self.args[((o - DATA_ARGS) / 8) as usize];
                // Both supported architectures are little-endian: low half first.
                Some(if (o - DATA_ARGS) % 8 == 0 {
                    lo(arg)
                } else {
                    hi(arg)
                })
            }
            _ => None,
        }
    }
}

/// Runs `program` on `data` the way the kernel would; `Err` names the first thing the
/// interpreter does not understand (box never emits it).
pub(super) fn run(program: &[sock_filter], data: &SeccompData) -> Result<u32, String> {
    walk(program, data).0
}

/// How many instructions `program` runs for syscall `nr` of ABI `arch` (arguments 0).
#[cfg(test)]
pub(super) fn steps(program: &[sock_filter], nr: u32, arch: u32) -> usize {
    let data = SeccompData {
        nr,
        arch,
        ..SeccompData::default()
    };
    walk(program, &data).1
}

/// [`run`], and the number of instructions it ran.
fn walk(program: &[sock_filter], data: &SeccompData) -> (Result<u32, String>, usize) {
    let mut steps = 0;
    let result = (|| {
        let mut acc: u32 = 0;
        let mut pc: usize = 0;
        while let Some(insn) = program.get(pc) {
            steps += 1;
            pc += 1;
            let skip = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
            match insn.code {
                BPF_LD_W_ABS => {
                    acc = data
                        .word(insn.k)
                        .ok_or_else(|| format!("load from bad offset {}", insn.k))?
                }
                BPF_ALU_AND_K => acc &= insn.k,
                BPF_JMP_JA => pc += insn.k as usize,
                BPF_JMP_JEQ_K => pc += skip(acc == insn.k),
                BPF_JMP_JGT_K => pc += skip(acc > insn.k),
                BPF_JMP_JGE_K => pc += skip(acc >= insn.k),
                BPF_JMP_JSET_K => pc += skip(acc & insn.k != 0),
                BPF_RET_K => return Ok(insn.k),
                other => {
                    return Err(format!(
                        "unsupported instruction code {other:#x} at {}",
                        pc - 1
                    ))
                }
            }
        }
        Err("program ran off its end".to_string())
    })();
    (result, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_follows_jumps_and_masks() {
        let prog = vec![
            stmt(BPF_LD_W_ABS, DATA_ARGS + 4), // high half of arg0
            jump(BPF_JMP_JEQ_K, 1, 0, 2),
            stmt(BPF_LD_W_ABS, DATA_ARGS),
            jump(BPF_JMP_JSET_K, 0x10, 1, 0),
            stmt(BPF_RET_K, 1),
            stmt(BPF_RET_K, 2),
        ];
        let mut data = SeccompData {
            args: [(1 << 32) | 0x10, 0, 0, 0, 0, 0],
            ..SeccompData::default()
        };
        assert_eq!(run(&prog, &data), Ok(2));
        data.args[0] = (1 << 32) | 0x01;
        assert_eq!(run(&prog, &data), Ok(1));
        data.args[0] = 0x10;
        assert_eq!(run(&prog, &data), Ok(1)); // high half 0: jeq false skips to "ret 1"
    }
}
