//! Seccomp: Docker-format profiles (built-in default or JSON), evaluated against the resolved
//! capability set and compiled to classic BPF with seccompiler.
//!
//! What the compiled filter does, in order:
//! 1. a syscall from any ABI other than the native one (i386 or x32 on x86_64, arm32 on
//!    aarch64) kills the process (`SECCOMP_RET_KILL_PROCESS`, the process sees SIGSYS) — box
//!    has no syscall tables for those ABIs, so it cannot apply the profile to them, and a loud
//!    death beats a program spinning on errors from every call;
//! 2. when the default action denies, a syscall number above every number the profile names
//!    gets `ENOSYS` (as runc does), so libc falls back from syscalls newer than the profile;
//! 3. the profile's rules, first matching entry wins (libseccomp has no order; Docker's
//!    profiles never give one syscall two different actions for the same arguments);
//! 4. the default action.

mod bpf;
mod compile;
mod compiled;
mod default;
mod json;
mod link;
mod model;
mod plan;
#[cfg(test)]
mod plan_tests;
mod tables;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

pub use bpf::SeccompData;
pub use compiled::Compiled;
pub use model::{
    Action, Applicability, ArchMapEntry, ArgCondition, CmpOp, KernelVersion, Profile, SyscallRule,
};
pub use seccompiler::sock_filter;

use crate::error::{Error, Result};

/// An architecture box can build filters for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86_64 (native 64-bit ABI only).
    X86_64,
    /// aarch64 (native 64-bit ABI only).
    Aarch64,
}

impl Arch {
    /// The architecture this binary runs on, if box supports it.
    pub fn native() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// `AUDIT_ARCH_*` value the kernel reports in `seccomp_data.arch`.
    pub fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 => 0xC000_003E,
            Arch::Aarch64 => 0xC000_00B7,
        }
    }

    /// libseccomp's name (`architectures` in a profile).
    pub fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
        }
    }

    /// Names `includes.arches` / `excludes.arches` may use for this architecture (Docker uses
    /// Go's names).
    pub(crate) fn matches_name(self, name: &str) -> bool {
        let names: &[&str] = match self {
            Arch::X86_64 => &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
            Arch::Aarch64 => &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
        };
        names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    pub(crate) fn target(self) -> seccompiler::TargetArch {
        match self {
            Arch::X86_64 => seccompiler::TargetArch::x86_64,
            Arch::Aarch64 => seccompiler::TargetArch::aarch64,
        }
    }

    fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => tables::X86_64,
            Arch::Aarch64 => tables::AARCH64,
        }
    }
}

/// The number of syscall `name` on `arch`, if it exists there.
pub fn syscall_number(arch: Arch, name: &str) -> Option<u32> {
    // A profile names ~400 syscalls: a linear scan per name was most of `prepare`'s time.
    static X86_64: OnceLock<HashMap<&str, u32>> = OnceLock::new();
    static AARCH64: OnceLock<HashMap<&str, u32>> = OnceLock::new();
    let cell = match arch {
        Arch::X86_64 => &X86_64,
        Arch::Aarch64 => &AARCH64,
    };
    cell.get_or_init(|| arch.table().iter().copied().collect())
        .get(name)
        .copied()
}

/// Whether `name` is a syscall on any architecture box has a table for.
pub(crate) fn known_anywhere(name: &str) -> bool {
    [Arch::X86_64, Arch::Aarch64]
        .into_iter()
        .any(|a| syscall_number(a, name).is_some())
}

impl Profile {
    /// box's built-in equivalent of Docker's default profile.
    pub fn docker_default() -> Profile {
        default::profile()
    }

    /// Parses a Docker/OCI JSON profile; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Profile> {
        json::parse(text, origin)
    }

    /// Reads and parses a JSON profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ProfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        Profile::from_json(&text, &path.display().to_string())
    }

    /// Evaluates the profile for a container whose bounding set is `caps`, on `arch` and
    /// `kernel`, and compiles it to BPF.
    pub fn compile(
        &self,
        caps: crate::capabilities::CapSet,
        arch: Arch,
        kernel: KernelVersion,
    ) -> Result<Compiled> {
        compile::emit(self, self.plan(caps, arch, kernel)?)
    }

    /// The evaluation half of [`Profile::compile`]: every error the profile can cause for
    /// this container, without building the BPF program.
    pub(crate) fn plan(
        &self,
        caps: crate::capabilities::CapSet,
        arch: Arch,
        kernel: KernelVersion,
    ) -> Result<plan::Plan> {
        plan::plan(self, caps, arch, kernel)
    }

    /// Builds the filter of a plan made by [`Profile::plan`] from this profile.
    pub(crate) fn emit(&self, plan: plan::Plan) -> Result<Compiled> {
        compile::emit(self, plan)
    }
}
