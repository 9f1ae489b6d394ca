//! The cgroup v2 device policy: a `BPF_PROG_TYPE_CGROUP_DEVICE` program, assembled here by
//! hand. cgroup v2 has no devices controller; the kernel runs the programs attached to a
//! cgroup on every `mknod` and `open` of a device node by its processes, and refuses the
//! access (EPERM) unless each returns 1.
//!
//! The program has one block per rule, tried in order; a block whose every check passes
//! returns 1 (allow), a failed check jumps to the next block, and after the last one the
//! program returns 0 (deny):
//!
//! ```text
//!     r2 = ctx->access_type & 0xffff      device type: BPF_DEVCG_DEV_BLOCK 1, _CHAR 2
//!     r3 = ctx->access_type >> 16         access: BPF_DEVCG_ACC_MKNOD 1, _READ 2, _WRITE 4
//!     r4 = ctx->major
//!     r5 = ctx->minor
//! rule: if r2 != TYPE goto next           (not for `a`)
//!       r1 = r3 & ACCESS; if r1 != r3 goto next   (every requested access allowed; not for rwm)
//!       if r4 != MAJOR goto next          (not for `*`)
//!       if r5 != MINOR goto next          (not for `*`)
//!       r0 = 1; exit
//! next: ...
//!       r0 = 0; exit
//! ```
//!
//! Comparisons use 64-bit jumps with a sign-extended immediate, which every kernel with this
//! program type knows; the numbers compared fit in 20 bits ([`DeviceRule::check`]), so that
//! is exact.

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
/// BPF_JMP | BPF_JNE | BPF_K: if dst != imm, skip `off` instructions.
pub(crate) const JNE_K: u8 = 0x55;
/// BPF_JMP | BPF_JNE | BPF_X: if dst != src, skip `off` instructions.
pub(crate) const JNE_X: u8 = 0x5d;
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
    for rule in rules {
        out.extend(block(rule));
    }
    out.extend([insn(MOV_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)]);
    out
}

/// One rule's checks, each jumping past the block on a mismatch, then "allow".
fn block(rule: &DeviceRule) -> Vec<Insn> {
    // Checks hold a placeholder offset until the block's length is known.
    let mut checks = Vec::new();
    match rule.kind {
        DeviceKind::All => {}
        DeviceKind::Char => checks.push(insn(JNE_K, 2, 0, 0, DEV_CHAR)),
        DeviceKind::Block => checks.push(insn(JNE_K, 2, 0, 0, DEV_BLOCK)),
    }
    if rule.access != DeviceAccess::RWM {
        checks.extend([
            insn(MOV_X, 1, 3, 0, 0),
            insn(AND_K, 1, 0, 0, i32::from(rule.access.bits())),
            insn(JNE_X, 1, 3, 0, 0),
        ]);
    }
    // Both fit in 20 bits (DeviceRule::check), so in an i32.
    if let Some(major) = rule.major {
        checks.push(insn(JNE_K, 4, 0, 0, major as i32));
    }
    if let Some(minor) = rule.minor {
        checks.push(insn(JNE_K, 5, 0, 0, minor as i32));
    }
    checks.extend([insn(MOV_K, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0)]);
    let len = checks.len();
    for (i, c) in checks.iter_mut().enumerate() {
        if c.code == JNE_K || c.code == JNE_X {
            // A jump lands at pc + 1 + off: the first instruction after this block. A block
            // holds at most 8 instructions.
            c.off = (len - 1 - i) as i16;
        }
    }
    checks
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
