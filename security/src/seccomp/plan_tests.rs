//! The plan's answers (used to check profiles without building them) must be exactly what the
//! built filter answers, for every syscall and a spread of arguments.

use super::*;
use crate::capabilities::{default_capabilities, CapSet};

const KERNEL: KernelVersion = KernelVersion {
    major: 6,
    minor: 18,
};

/// Argument values that hit every kind of rule: zero, socketcall/ipc calls (with an ipc
/// version), AF_VSOCK, namespace clone flags, personalities, garbage in the upper half, all
/// ones.
const ARGS: [u64; 11] = [
    0,
    3,
    0x1_000c,
    40,
    0x1000_0000,
    0x7e02_0000,
    0x0040_0000,
    0x0002_0008,
    0xffff_ffff_0000_0028,
    u64::MAX,
    8,
];

/// For every ABI the host can run (covered or not), every number in its table and x32's.
fn assert_agree(profile: &Profile, caps: CapSet, native: Arch) {
    let plan = profile.plan(caps, native, KERNEL).unwrap();
    let built = profile
        .emit(profile.plan(caps, native, KERNEL).unwrap())
        .unwrap();
    let x32 = Arch::X86_64
        .table()
        .iter()
        .map(|(n, nr)| (*n, nr | 0x4000_0000));
    let abis = [native].into_iter().chain(native.compat());
    for arch in abis {
        let numbers: Vec<(&str, u32)> = match arch {
            Arch::X86_64 => arch.table().iter().copied().chain(x32.clone()).collect(),
            _ => arch.table().to_vec(),
        };
        for (name, nr) in numbers
            .into_iter()
            .chain([("(newer)", 999), ("(private)", 0xf_0007)])
        {
            for arg in ARGS {
                let args = [arg, arg, 0, arg, 0, 0];
                let data = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    instruction_pointer: 0,
                    args,
                };
                assert_eq!(
                    plan.action(arch, nr, args),
                    built.evaluate(&data).unwrap(),
                    "{} {arch:?} {name}({arg:#x})",
                    profile.origin
                );
            }
        }
    }
}

#[test]
fn the_plan_answers_what_the_default_filter_answers() {
    let profile = Profile::docker_default();
    for arch in [Arch::X86_64, Arch::Aarch64] {
        for caps in [default_capabilities(), CapSet::EMPTY, CapSet::all()] {
            assert_agree(&profile, caps, arch);
        }
    }
}

#[test]
fn the_plan_answers_what_a_json_filter_answers() {
    let deny_by_default = r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
        {"names":["read","write","execve","exit_group","sendto","semop"],"action":"SCMP_ACT_ALLOW"},
        {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":31},
        {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":40,"op":"SCMP_CMP_LE"}]},
        {"names":["socket"],"action":"SCMP_ACT_KILL","args":[{"index":0,"value":8,"op":"SCMP_CMP_GT"}]},
        {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"valueTwo":8,"op":"SCMP_CMP_MASKED_EQ"}]},
        {"names":["clone"],"action":"SCMP_ACT_TRAP","args":[{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"},{"index":1,"value":0,"op":"SCMP_CMP_NE"}]},
        {"names":["clone"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let allow_by_default = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":31},
        {"names":["close_range"],"action":"SCMP_ACT_ERRNO"},
        {"names":["connect","msgrcv"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
        {"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":4294967299,"op":"SCMP_CMP_EQ"}]},
        {"names":["bind"],"action":"SCMP_ACT_KILL","args":[{"index":2,"value":16,"op":"SCMP_CMP_LT"}]},
        {"names":["ioctl"],"action":"SCMP_ACT_LOG","args":[{"index":3,"value":0,"op":"SCMP_CMP_GE"}]},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":40,"op":"SCMP_CMP_EQ"}]}]}"#;
    for text in [deny_by_default, allow_by_default] {
        let mut profile = Profile::from_json(text, "p.json").unwrap();
        assert_agree(&profile, default_capabilities(), Arch::X86_64);
        profile.architectures = [
            "SCMP_ARCH_X86_64",
            "SCMP_ARCH_X86",
            "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_ARM",
        ]
        .map(String::from)
        .to_vec();
        for arch in [Arch::X86_64, Arch::Aarch64] {
            assert_agree(&profile, default_capabilities(), arch);
        }
    }
}
