//! The binary search the filter is laid out as answers every syscall number, on every ABI, as
//! the plan it was compiled from does: exhaustively over the numbers, with the argument values
//! the profiles' conditions compare against.

use super::*;
use crate::capabilities::{default_capabilities, CapSet, Capability};

const KERNEL: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

/// Argument vectors around the values Docker's profile and the test profile compare with.
const ARGS: [[u64; 6]; 12] = [
    [0; 6],
    [1, 0, 0, 0, 0, 0],
    [2, 0, 0, 0, 0, 0],
    [40, 0, 0, 0, 0, 0],                     // AF_VSOCK
    [(1 << 32) | 40, 0, 0, 0, 0, 0],         // AF_VSOCK, garbage above
    [0x8, 0, 0, 0, 0, 0],                    // a persona
    [0x20008, 0, 0, 0, 0, 0],                // another
    [0xffff_ffff, 0, 0, 0, 0, 0],            // persona query
    [0x11, 0, 0, 0, 0, 0],                   // clone: SIGCHLD
    [0x1000_0011, 0, 0, 0, 0, 0],            // clone: CLONE_NEWUSER
    [0x7e02_0000, 7, 0, 0, 0, 0],            // every namespace flag
    [u64::MAX, u64::MAX, 0, 0, 0, u64::MAX], // everything set
];

/// Every number up to past the largest table, and the edges above.
fn numbers() -> impl Iterator<Item = u32> {
    (0..1100)
        .chain(0x4000_0000..0x4000_0200) // x32
        .chain(0x000f_0000..0x000f_0010) // arm's private calls
        .chain([0x7fff_ffff, u32::MAX - 1, u32::MAX])
}

fn agree(profile: &Profile, caps: CapSet, native: Arch) {
    let plan = profile.plan(caps, native, KERNEL).unwrap();
    let filter = profile.compile(caps, native, KERNEL).unwrap();
    for &arch in filter.arches() {
        for nr in numbers() {
            for args in ARGS {
                let data = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    instruction_pointer: 0,
                    args,
                };
                assert_eq!(
                    filter.evaluate(&data).unwrap(),
                    plan.action(arch, nr, args),
                    "{}: {arch:?} syscall {nr} {args:x?}",
                    profile.origin
                );
            }
        }
    }
}

#[test]
fn the_default_filter_answers_every_number_as_its_plan() {
    let mut admin = default_capabilities();
    admin.insert(Capability::CAP_SYS_ADMIN);
    for caps in [default_capabilities(), admin, CapSet::EMPTY, CapSet::all()] {
        for native in [Arch::X86_64, Arch::Aarch64] {
            agree(&Profile::docker_default(), caps, native);
        }
    }
}

#[test]
fn a_filter_with_conditions_and_several_actions_per_syscall_answers_as_its_plan() {
    // Allow by default; one syscall with two conditional rules of different actions and an
    // unconditional one after them; a range of denied calls; a kill.
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[
              {"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]},
              {"names":["socket"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_GE"}]},
              {"names":["socket"],"action":"SCMP_ACT_LOG"},
              {"names":["mount","umount2","pivot_root","read","write","open"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
              {"names":["personality"],"action":"SCMP_ACT_TRAP","args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_NE"}]},
              {"names":["clone"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
              {"names":["ptrace"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
        "p.json",
    )
    .unwrap();
    agree(&profile, CapSet::EMPTY, Arch::X86_64);
}

#[test]
fn the_default_filter_decides_with_a_short_walk() {
    // What the kernel pays on install: one run of the filter per number and ABI. The search
    // decides any plain number in a few dozen instructions; the list it replaced took
    // hundreds.
    let filter = Profile::docker_default()
        .compile(default_capabilities(), Arch::X86_64, KERNEL)
        .unwrap();
    for &arch in filter.arches() {
        for nr in 0..1100 {
            let steps = bpf::steps(filter.instructions(), nr, arch.audit_arch());
            assert!(steps <= 40, "{arch:?} syscall {nr}: {steps} instructions");
        }
    }
}
