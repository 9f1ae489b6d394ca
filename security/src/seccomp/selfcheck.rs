//! A compiled filter checked against itself, for the fuzz targets (`fuzz/`) and the tests that
//! replay their corpus: the program must be one the kernel loads, and it must answer what the
//! plan it was built from answers (the plan is box's reading of the profile, written without
//! jumps; the program is that reading after grouping, offsets and 8-bit jump limits).

use super::bpf::{self, SeccompData};
use super::compat::{self, X32_SYSCALL_BIT};
use super::plan::Plan;
use super::{Arch, Compiled, KernelVersion, Profile};
use crate::capabilities::CapSet;
use crate::error::Result;

/// `sizeof(struct seccomp_data)`: loads past it are refused by the kernel.
const DATA_SIZE: u32 = 64;

/// Argument values every syscall is tried with, besides the profile's own.
const PLAIN_ARGS: [u64; 4] = [0, u64::MAX, 0xffff_ffff, 1 << 32];

/// Probes for conditions at most: a profile's values beyond these are not tried.
const MAX_PROBES: usize = 48;

impl Profile {
    /// Compiles the profile for `caps`, `native` and `kernel` and checks the result.
    /// `Err`: the profile does not compile (the user's mistake, as [`Profile::compile`] says).
    /// `Ok(Some(problem))`: it compiled to a program the kernel would refuse, or that answers
    /// some syscall differently from the profile: a bug in box.
    #[doc(hidden)]
    pub fn self_check(
        &self,
        caps: CapSet,
        native: Arch,
        kernel: KernelVersion,
    ) -> Result<Option<String>> {
        let compiled = self.emit(self.plan(caps, native, kernel)?)?;
        if let Err(problem) = loadable(compiled.instructions()) {
            return Ok(Some(problem));
        }
        let plan = self.plan(caps, native, kernel)?;
        Ok(disagreement(self, &plan, &compiled))
    }
}

/// What the kernel's classic-BPF checker (`bpf_check_classic`, `seccomp_check_filter`) would
/// refuse: an empty or too long program, a jump out of it, a load outside `seccomp_data`, an
/// instruction box does not emit, or a last instruction that is not a return.
fn loadable(program: &[seccompiler::sock_filter]) -> std::result::Result<(), String> {
    if program.is_empty() || program.len() > bpf::MAX_INSNS {
        return Err(format!("{} instructions", program.len()));
    }
    for (pc, insn) in program.iter().enumerate() {
        let lands = |offset: usize| pc + 1 + offset < program.len();
        let ok = match insn.code {
            bpf::BPF_LD_W_ABS => insn.k < DATA_SIZE && insn.k % 4 == 0,
            bpf::BPF_ALU_AND_K | bpf::BPF_RET_K => true,
            bpf::BPF_JMP_JA => lands(insn.k as usize),
            bpf::BPF_JMP_JEQ_K | bpf::BPF_JMP_JGT_K | bpf::BPF_JMP_JGE_K | bpf::BPF_JMP_JSET_K => {
                lands(insn.jt.into()) && lands(insn.jf.into())
            }
            _ => false,
        };
        if !ok {
            return Err(format!("instruction {pc} ({insn:?}) would be refused"));
        }
    }
    match program.last() {
        Some(last) if last.code == bpf::BPF_RET_K => Ok(()),
        _ => Err("the last instruction is not a return".into()),
    }
}

/// The first syscall (number, ABI, arguments) for which the program and the plan disagree.
/// Tried: every number the profile names on each ABI the host runs, its neighbours, x32's
/// version of it, numbers above them all, and the argument values the profile compares.
fn disagreement(profile: &Profile, plan: &Plan, compiled: &Compiled) -> Option<String> {
    let native = compiled.arch();
    let abis: Vec<Arch> = [native].into_iter().chain(native.compat()).collect();
    let probes = probes(profile);
    for &arch in &abis {
        let mut numbers = vec![0, 999, 0x3fff_ffff, 0xf_0007, u32::MAX];
        for rule in &profile.syscalls {
            for name in &rule.names {
                let (direct, muxed) = compat::targets(arch, name);
                numbers.extend(direct);
                numbers.extend(muxed.map(|m| m.nr));
            }
        }
        let named = numbers.len();
        for i in 0..named {
            let nr = numbers[i];
            numbers.extend([nr.wrapping_sub(1), nr.wrapping_add(1)]);
            if arch == Arch::X86_64 {
                numbers.push(nr | X32_SYSCALL_BIT);
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        for &nr in &numbers {
            for args in &probes {
                let data = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    instruction_pointer: 0,
                    args: *args,
                };
                let planned = plan.action(arch, nr, *args);
                match compiled.evaluate(&data) {
                    Ok(got) if got == planned => {}
                    got => {
                        return Some(format!(
                            "{arch:?} syscall {nr} with {args:x?}: the plan says {planned:?}, the program {got:?}"
                        ))
                    }
                }
            }
        }
    }
    None
}

/// Argument vectors: plain values in every argument, and each compared value (and its
/// neighbours) in the argument it is compared in.
fn probes(profile: &Profile) -> Vec<[u64; 6]> {
    let mut probes: Vec<[u64; 6]> = PLAIN_ARGS.iter().map(|&v| [v; 6]).collect();
    let conditions = profile.syscalls.iter().flat_map(|r| r.args.iter());
    for c in conditions {
        for v in [
            c.value,
            c.value.wrapping_add(1),
            c.value.wrapping_sub(1),
            c.value_two,
        ] {
            if probes.len() >= MAX_PROBES {
                return probes;
            }
            let mut args = [0; 6];
            args[usize::from(c.index).min(5)] = v;
            if !probes.contains(&args) {
                probes.push(args);
            }
        }
    }
    probes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::Action;

    #[test]
    fn the_default_profile_checks_clean() {
        let native = Arch::native().expect("box supports this architecture");
        let kernel = KernelVersion { major: 6, minor: 1 };
        let profile = Profile::docker_default();
        for caps in [CapSet::EMPTY, CapSet::all()] {
            assert_eq!(profile.self_check(caps, native, kernel).unwrap(), None);
        }
    }

    #[test]
    fn a_program_that_answers_otherwise_is_caught() {
        let native = Arch::native().expect("box supports this architecture");
        let kernel = KernelVersion { major: 6, minor: 1 };
        let profile = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
            "p.json",
        )
        .unwrap();
        let plan = || profile.plan(CapSet::EMPTY, native, kernel).unwrap();
        let mut compiled = profile.emit(plan()).unwrap();
        assert_eq!(disagreement(&profile, &plan(), &compiled), None);
        let errno = Action::Errno(13).to_ret();
        let ret = compiled.program.iter_mut().find(|i| i.k == errno).unwrap();
        ret.k = Action::Errno(14).to_ret();
        let found = disagreement(&profile, &plan(), &compiled).expect("a disagreement");
        assert!(found.contains("Errno(13)"), "{found}");
    }

    #[test]
    fn refuses_what_the_kernel_would() {
        let ret = || bpf::stmt(bpf::BPF_RET_K, 0);
        let load = |k| bpf::stmt(bpf::BPF_LD_W_ABS, k);
        assert!(loadable(&[load(4), ret()]).is_ok());
        assert!(loadable(&[]).is_err());
        assert!(loadable(&[load(4)]).is_err(), "no return at the end");
        assert!(
            loadable(&[load(64), ret()]).is_err(),
            "load past seccomp_data"
        );
        assert!(loadable(&[load(6), ret()]).is_err(), "unaligned load");
        let jump_out = bpf::jump(bpf::BPF_JMP_JEQ_K, 0, 1, 0);
        assert!(loadable(&[jump_out, ret()]).is_err(), "jump past the end");
        assert!(loadable(&[bpf::jump(bpf::BPF_JMP_JEQ_K, 0, 0, 0), ret()]).is_ok());
        assert!(loadable(&[bpf::stmt(bpf::BPF_JMP_JA, 1), ret()]).is_err());
    }
}
