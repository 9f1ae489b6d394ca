//! The emitted instruction stream, exactly, and its behaviour: a small interpreter of the
//! instructions the emitter uses runs the program for many devices and accesses, and must
//! decide as the v1 kernel's rule matching does.

use super::*;
use crate::devices::rules::{normalize, DEFAULT_DEVICE_RULES};

fn rules(text: &[&str]) -> Vec<DeviceRule> {
    text.iter().map(|t| t.parse().unwrap()).collect()
}

/// Runs `prog` on a `bpf_cgroup_dev_ctx`; panics on anything the emitter never produces.
fn run(prog: &[Insn], kind: DeviceKind, major: u32, minor: u32, access: DeviceAccess) -> u64 {
    let dev_type = match kind {
        DeviceKind::Block => DEV_BLOCK as u32,
        DeviceKind::Char => DEV_CHAR as u32,
        DeviceKind::All => unreachable!("a device is a char or a block device"),
    };
    let ctx = [(u32::from(access.bits()) << 16) | dev_type, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps <= prog.len(), "no backward jumps: at most one pass");
        let i = prog[pc];
        let (d, s) = (usize::from(i.dst), usize::from(i.src));
        pc += 1;
        match i.code {
            LDX_W => {
                assert_eq!(s, 1, "loads only from the context");
                r[d] = u64::from(ctx[i.off as usize / 4]);
            }
            AND_K => r[d] &= i.imm as i64 as u64,
            RSH_K => r[d] >>= i.imm,
            MOV_K => r[d] = i.imm as i64 as u64,
            MOV_X => r[d] = r[s],
            XOR_K => r[d] ^= i.imm as i64 as u64,
            OR_X => r[d] |= r[s],
            JEQ_K if r[d] == i.imm as i64 as u64 => pc += i.off as usize,
            JEQ_K => {}
            EXIT => return r[0],
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

/// The v1 kernel's decision for a deny-by-default cgroup holding `rules`.
fn reference(
    rules: &[DeviceRule],
    kind: DeviceKind,
    major: u32,
    minor: u32,
    a: DeviceAccess,
) -> u64 {
    u64::from(
        normalize(rules)
            .iter()
            .any(|r| r.allows(kind, major, minor, a)),
    )
}

fn accesses() -> Vec<DeviceAccess> {
    (1..=7)
        .map(|bits: u8| {
            let text: String = [(2, 'r'), (4, 'w'), (1, 'm')]
                .iter()
                .filter(|(b, _)| bits & b != 0)
                .map(|(_, c)| *c)
                .collect();
            text.parse().unwrap()
        })
        .collect()
}

#[test]
fn decides_like_v1_for_every_device_and_access() {
    let policies = [
        DEFAULT_DEVICE_RULES.to_vec(),
        rules(&["c 1:3 r", "c 1:3 w", "b 7:* rw", "c *:11 m"]),
        rules(&["b *:* rwm"]),
        rules(&["a *:* rwm"]),
        rules(&["c 1:3 rwm", "a"]),
        Vec::new(),
    ];
    let majors = [0, 1, 5, 7, 8, 136, 137, 4095];
    let minors = [0, 1, 2, 3, 5, 7, 8, 9, 11, 200, (1 << 20) - 1];
    for policy in &policies {
        let prog = program(&normalize(policy));
        for kind in [DeviceKind::Char, DeviceKind::Block] {
            for major in majors {
                for minor in minors {
                    for a in accesses() {
                        assert_eq!(
                            run(&prog, kind, major, minor, a),
                            reference(policy, kind, major, minor, a),
                            "{policy:?}: {kind:?} {major}:{minor} {a}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn default_policy_denies_block_devices_and_kmsg_but_allows_mknod() {
    let prog = program(&normalize(&DEFAULT_DEVICE_RULES));
    let (r, w, m) = (DeviceAccess::READ, DeviceAccess::WRITE, DeviceAccess::MKNOD);
    assert_eq!(run(&prog, DeviceKind::Block, 7, 0, r), 0);
    assert_eq!(run(&prog, DeviceKind::Block, 8, 0, w), 0);
    assert_eq!(run(&prog, DeviceKind::Block, 8, 0, m), 1);
    assert_eq!(run(&prog, DeviceKind::Char, 1, 11, w), 0);
    assert_eq!(run(&prog, DeviceKind::Char, 1, 11, m), 1);
    assert_eq!(run(&prog, DeviceKind::Char, 1, 3, DeviceAccess::RW), 1);
    assert_eq!(run(&prog, DeviceKind::Char, 136, 4, DeviceAccess::RW), 1);
}

#[test]
fn exact_stream_for_two_rules() {
    let prog = program(&rules(&["c 1:3 rwm", "b *:* m"]));
    let want = [
        // Prologue: type, access, major, minor.
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
        // c 1:3 rwm: no access check.
        insn(MOV_X, 0, 2, 0, 0),
        insn(XOR_K, 0, 0, 0, DEV_CHAR),
        insn(MOV_X, 1, 4, 0, 0),
        insn(XOR_K, 1, 0, 0, 1),
        insn(OR_X, 0, 1, 0, 0),
        insn(MOV_X, 1, 5, 0, 0),
        insn(XOR_K, 1, 0, 0, 3),
        insn(OR_X, 0, 1, 0, 0),
        insn(JEQ_K, 0, 0, 8, 0),
        // b *:* m: read and write are lacking; no number checks.
        insn(MOV_X, 0, 2, 0, 0),
        insn(XOR_K, 0, 0, 0, DEV_BLOCK),
        insn(MOV_X, 1, 3, 0, 0),
        insn(AND_K, 1, 0, 0, 6),
        insn(OR_X, 0, 1, 0, 0),
        insn(JEQ_K, 0, 0, 2, 0),
        // Deny.
        insn(MOV_K, 0, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
        // Allow.
        insn(MOV_K, 0, 0, 0, 1),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(prog, want);
    assert_eq!(program(&[]).len(), 10);
    // `a` has no check at all: a mismatch of 0, always allowed.
    let all = program(&[DeviceRule::ALLOW_ALL]);
    assert_eq!(
        all[6..8],
        [insn(MOV_K, 0, 0, 0, 0), insn(JEQ_K, 0, 0, 2, 0)]
    );
}

#[test]
fn raw_layout_is_the_kernels() {
    assert_eq!(std::mem::size_of::<RawInsn>(), 8);
    let raw = insn(MOV_X, 1, 3, 2, 0).raw();
    // SAFETY: RawInsn is repr(C), 8 bytes with no padding (u8, u8, i16, i32).
    let bytes: [u8; 8] = unsafe { std::mem::transmute(raw) };
    if cfg!(target_endian = "little") {
        assert_eq!(bytes, [0xbf, 0x31, 2, 0, 0, 0, 0, 0]);
        // SAFETY: as above.
        let mov: [u8; 8] = unsafe { std::mem::transmute(insn(MOV_K, 0, 0, 0, 1).raw()) };
        assert_eq!(mov, [0xb7, 0, 0, 0, 1, 0, 0, 0]);
    }
}
