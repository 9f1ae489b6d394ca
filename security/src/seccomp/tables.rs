//! Syscall name → number tables of the ABIs box filters, taken from the `syscalls` crate (which
//! is generated from the kernel's own tables) rather than kept by hand. Its per-architecture
//! modules are plain data, so a filter for one architecture can be built and tested on
//! another.
//!
//! Where the crate's tables differ from the kernel's, [`correct`] fixes them; each fix has a
//! test in `tests.rs` that fails once the crate no longer needs it.

use std::sync::OnceLock;

use super::Arch;

/// Every syscall of `arch` with its number.
pub(super) fn table(arch: Arch) -> &'static [(&'static str, u32)] {
    static TABLES: [OnceLock<Vec<(&'static str, u32)>>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    TABLES[arch as usize].get_or_init(|| correct(arch, from_crate(arch)))
}

/// The crate's table: every number from its first syscall to its last that names one.
macro_rules! numbered {
    ($sysno:ty) => {{
        type Sysno = $sysno;
        (Sysno::first().id()..=Sysno::last().id())
            .filter_map(|nr| Sysno::new(usize::try_from(nr).ok()?))
            .filter_map(|s| Some((s.name(), u32::try_from(s.id()).ok()?)))
            .collect::<Vec<_>>()
    }};
}

fn from_crate(arch: Arch) -> Vec<(&'static str, u32)> {
    match arch {
        Arch::X86_64 => numbered!(syscalls::x86_64::Sysno),
        Arch::Aarch64 => numbered!(syscalls::aarch64::Sysno),
        Arch::I386 => numbered!(syscalls::x86::Sysno),
        Arch::Arm => numbered!(syscalls::arm::Sysno),
    }
}

/// The numbers asm-generic reserves for the 64-bit-time calls of 32-bit ABIs
/// (`clock_gettime64` ... `sched_rr_get_interval_time64`): the kernel's scripts/syscall.tbl
/// gives them ABI "32", so a 64-bit ABI such as arm64 has no syscall there.
const TIME64_ONLY_32BIT: std::ops::RangeInclusive<u32> = 403..=423;

/// The calls arm EABI has outside its regular table, at `__ARM_NR_BASE` (0x0f0000) + n
/// (arch/arm/include/uapi/asm/unistd.h); glibc calls `set_tls` at startup.
const ARM_PRIVATE: [(&str, u32); 6] = [
    ("breakpoint", 0x000f_0001),
    ("cacheflush", 0x000f_0002),
    ("usr26", 0x000f_0003),
    ("usr32", 0x000f_0004),
    ("set_tls", 0x000f_0005),
    ("get_tls", 0x000f_0006),
];

/// Fixes the crate's table of `arch` where it differs from the kernel's (syscalls 0.8).
fn correct(arch: Arch, mut table: Vec<(&'static str, u32)>) -> Vec<(&'static str, u32)> {
    for entry in &mut table {
        // A keyword spelt as a raw identifier: i386's `break`.
        entry.0 = entry.0.strip_prefix("r#").unwrap_or(entry.0);
    }
    match arch {
        Arch::Aarch64 => {
            table.retain(|(_, nr)| !TIME64_ONLY_32BIT.contains(nr));
            for entry in &mut table {
                // asm-generic names number 79 `newfstatat` on 64-bit ABIs (as libseccomp and
                // Docker's profile do); the crate took the 32-bit alias `fstatat`.
                if entry.0 == "fstatat" {
                    entry.0 = "newfstatat";
                }
            }
        }
        Arch::Arm => table.extend(ARM_PRIVATE),
        Arch::X86_64 | Arch::I386 => {}
    }
    table
}
