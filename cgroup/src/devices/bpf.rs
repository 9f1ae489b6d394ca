//! The cgroup v2 device policy: a `BPF_PROG_TYPE_CGROUP_DEVICE` program, assembled here by
//! hand. cgroup v2 has no devices controller; the kernel runs the programs attached to a
//! cgroup on every `mknod` and `open` of a device node by its processes, and refuses the
//! access (EPERM) unless each returns 1.
//!
//! The program tests the rules in order, one conditional jump each: a rule's checks are folded
//! into `r0` with `xor`/`and` and `or`, which is zero exactly when the device matches, and a
//! match jumps to "allow"; after the last rule the program returns 0 (deny):
//!
//! ```text
//!     r2 = ctx->access_type & 0xffff      device type: BPF_DEVCG_DEV_BLOCK 1, _CHAR 2
//!     r3 = ctx->access_type >> 16         access: BPF_DEVCG_ACC_MKNOD 1, _READ 2, _WRITE 4
//!     r4 = ctx->major
//!     r5 = ctx->minor
//! rule: r0 = r2 ^ TYPE                    (for `a`: r0 = 0)
//!       r1 = r3 & ~ACCESS; r0 |= r1       (an access the rule lacks; not for rwm)
//!       r1 = r4 ^ MAJOR;   r0 |= r1       (not for `*`)
//!       r1 = r5 ^ MINOR;   r0 |= r1       (not for `*`)
//!       if r0 == 0 goto allow
//!       ... the next rule
//!       r0 = 0; exit
//! allow: r0 = 1; exit
//! ```
//!
//! Why not a jump per check: the kernel's verifier explores both sides of every conditional
//! jump, and one that teaches it a register's value (`r4 == 1` past `if r4 != 1`) makes
//! states that cannot be pruned. Loading the default policy took ~300 µs that way against
//! ~120 µs now, on every container's start. `xor` and `and` with a constant give a register
//! no link to its source, so nothing is learned about `r2`–`r5`.
//!
//! 64-bit operations with a sign-extended immediate, which every kernel with this program type
//! knows; the numbers compared fit in 20 bits ([`DeviceRule::check`]), so that is exact.

use super::rules::{DeviceAccess, DeviceKind, DeviceRule};

/// `struct bpf_insn`: opcode, destination and source registers, offset, immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

/// The instruction as the kernel reads it (the register nibbles are a C bitfield: `dst_reg`
/// takes the low nibble on little-endian machines, the high one on big-endian).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawInsn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

impl Insn {
    pub(crate) fn raw(self) -> RawInsn {
        let regs = if cfg!(target_endian = "little") {
            self.dst | (self.src << 4)
        } else {
            (self.dst << 4) | self.src
        };
        RawInsn {
            code: self.code,
            regs,
            off: self.off,
            imm: self.imm,
        }
    }
}

// Opcodes (linux/bpf_common.h, linux/bpf.h): class | operation | source.
/// BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off).
pub(crate) const LDX_W: u8 = 0x61;
/// BPF_ALU64 | BPF_AND | BPF_K: dst &= imm.
pub(crate) const AND_K: u8 = 0x57;
/// BPF_ALU64 | BPF_RSH | BPF_K: dst >>= imm.
pub(crate) const RSH_K: u8 = 0x77;
/// BPF_ALU64 | BPF_MOV | BPF_K: dst = imm.
pub(crate) const MOV_K: u8 = 0xb7;
/// BPF_ALU64 | BPF_MOV | BPF_X: dst = src.
pub(crate) const MOV_X: u8 = 0xbf;
/// BPF_ALU64 | BPF_XOR | BPF_K: dst ^= imm.
pub(crate) const XOR_K: u8 = 0xa7;
/// BPF_ALU64 | BPF_OR | BPF_X: dst |= src.
pub(crate) const OR_X: u8 = 0x4f;
/// BPF_JMP | BPF_JEQ | BPF_K: if dst == imm, skip `off` instructions.
pub(crate) const JEQ_K: u8 = 0x15;
/// BPF_JMP | BPF_EXIT: return r0.
pub(crate) const EXIT: u8 = 0x95;

/// `struct bpf_cgroup_dev_ctx` offsets.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;
/// BPF_DEVCG_DEV_BLOCK and BPF_DEVCG_DEV_CHAR.
pub(crate) const DEV_BLOCK: i32 = 1;
pub(crate) const DEV_CHAR: i32 = 2;

/// The kernel's limit on instructions for a program.
pub(crate) const MAX_INSNS: usize = 4096;

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

/// The program allowing exactly `rules` (already [`normalize`](super::rules::normalize)d).
pub(crate) fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut out = vec![
        insn(LDX_W, 2, 1, CTX_ACCESS_TYPE, 0),
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, CTX_ACCESS_TYPE, 0),
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, CTX_MAJOR, 0),
        insn(LDX_W, 5, 1, CTX_MINOR, 0),
    ];
    let mut to_allow = Vec::with_capacity(rules.len());
    for rule in rules {
        mismatch(rule, &mut out);
        to_allow.push(out.len());
        out.push(insn(JEQ_K, 0, 0, 0, 0));
    }
    out.extend([insn(MOV_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)]);
    let allow = out.len();
    out.extend([insn(MOV_K, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0)]);
    for at in to_allow {
        // Forward, and short: a program is at most MAX_INSNS long.
        out[at].off = (allow - at - 1) as i16;
    }
    out
}

/// Instructions leaving in `r0` a value that is zero exactly when `rule` allows the access.
fn mismatch(rule: &DeviceRule, out: &mut Vec<Insn>) {
    let kind = match rule.kind {
        DeviceKind::All => None,
        DeviceKind::Char => Some((2, XOR_K, DEV_CHAR)),
        DeviceKind::Block => Some((2, XOR_K, DEV_BLOCK)),
    };
    let lacking = !rule.access.bits() & DeviceAccess::RWM.bits();
    let access = (lacking != 0).then_some((3, AND_K, i32::from(lacking)));
    let major = rule.major.map(|m| (4, XOR_K, m as i32));
    let minor = rule.minor.map(|m| (5, XOR_K, m as i32));
    let mut terms = [kind, access, major, minor].into_iter().flatten();
    let Some((src, op, imm)) = terms.next() else {
        out.push(insn(MOV_K, 0, 0, 0, 0));
        return;
    };
    out.extend([insn(MOV_X, 0, src, 0, 0), insn(op, 0, 0, 0, imm)]);
    for (src, op, imm) in terms {
        out.extend([
            insn(MOV_X, 1, src, 0, 0),
            insn(op, 1, 0, 0, imm),
            insn(OR_X, 0, 1, 0, 0),
        ]);
    }
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
