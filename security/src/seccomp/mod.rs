//! Seccomp: Docker-format profiles (built-in default or JSON), evaluated against the resolved
//! capability set and compiled to classic BPF with seccompiler.
//!
//! One filter covers every ABI the profile lists that the host can run: the native one and,
//! like libseccomp with Docker's `archMap`, its 32-bit compat ABI (i386 on x86_64, arm on
//! aarch64) — the same rules, numbered from that ABI's table. What it does, in order:
//! 1. dispatch on `seccomp_data.arch`; an ABI the filter does not cover (one the profile does
//!    not list, or x32) kills the process (`SECCOMP_RET_KILL_PROCESS`; libseccomp's default
//!    "bad arch" action kills too, the thread) — a loud death beats a program spinning on
//!    errors from every call;
//! 2. per ABI, when the default action denies, a syscall number above every number the
//!    profile names gets `ENOSYS` (as runc does), so libc falls back from newer syscalls;
//! 3. the profile's rules, first matching entry wins (libseccomp has no order; Docker's
//!    profiles never give one syscall two different actions for the same arguments);
//! 4. the default action.

mod bpf;
mod compat;
#[cfg(test)]
mod compat_tests;
mod compile;
mod compiled;
mod default;
mod json;
mod json_form;
mod link;
#[cfg(test)]
mod link_tests;
mod model;
mod plan;
#[cfg(test)]
mod plan_tests;
mod ready;
mod resolve;
mod selfcheck;
mod tables;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::OnceLock;

pub use bpf::SeccompData;
pub use compiled::Compiled;
pub use json_form::INLINE_ORIGIN;
pub use model::{
    Action, Applicability, ArchMapEntry, ArgCondition, CmpOp, KernelVersion, Profile, SyscallRule,
};
pub(crate) use ready::default_filter as ready_default;
/// The source of the ready-made default filter (`cargo xtask seccomp` writes it).
#[doc(hidden)]
pub use ready::render as render_ready_default;
pub use seccompiler::sock_filter;

use crate::error::{Error, Result};

/// The largest profile file [`Profile::load`] reads: Docker's default profile is under 30 KiB.
pub const MAX_PROFILE_SIZE: u64 = 4 * 1024 * 1024;

/// The text of the regular file at `path`, if it is at most [`MAX_PROFILE_SIZE`] bytes. Opened
/// non-blocking so that a fifo is refused rather than waited on.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::{Error as IoError, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(IoError::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PROFILE_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PROFILE_SIZE {
        return Err(IoError::new(
            ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_PROFILE_SIZE >> 20),
        ));
    }
    String::from_utf8(bytes).map_err(|e| IoError::new(ErrorKind::InvalidData, e))
}

/// An ABI box can build filters for: a native architecture, or the 32-bit compat ABI of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86_64 (its native 64-bit ABI; x32 is killed, see [`Arch::unfiltered`]).
    X86_64,
    /// aarch64 (native).
    Aarch64,
    /// i386: 32-bit programs and `int 0x80` on x86_64.
    I386,
    /// arm EABI: 32-bit programs on aarch64.
    Arm,
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

    /// The 32-bit ABI a process on this (native) architecture can also use.
    pub fn compat(self) -> Option<Arch> {
        match self {
            Arch::X86_64 => Some(Arch::I386),
            Arch::Aarch64 => Some(Arch::Arm),
            Arch::I386 | Arch::Arm => None,
        }
    }

    /// libseccomp names of the ABIs a process on this (native) architecture can use that box
    /// cannot filter: their syscalls always kill the process.
    pub fn unfiltered(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["SCMP_ARCH_X32"],
            _ => &[],
        }
    }

    /// Whether syscall arguments are 64 bits wide.
    pub fn is_64bit(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::Aarch64)
    }

    /// `AUDIT_ARCH_*` value the kernel reports in `seccomp_data.arch`.
    pub fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 => 0xC000_003E,
            Arch::Aarch64 => 0xC000_00B7,
            Arch::I386 => 0x4000_0003,
            Arch::Arm => 0x4000_0028,
        }
    }

    /// libseccomp's name (`architectures` in a profile).
    pub fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
            Arch::I386 => "SCMP_ARCH_X86",
            Arch::Arm => "SCMP_ARCH_ARM",
        }
    }

    /// Names `includes.arches` / `excludes.arches` may use for this architecture (Docker uses
    /// Go's names).
    pub(crate) fn matches_name(self, name: &str) -> bool {
        let names: &[&str] = match self {
            Arch::X86_64 => &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
            Arch::Aarch64 => &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
            Arch::I386 => &["x86", "386", "i386", "SCMP_ARCH_X86"],
            Arch::Arm => &["arm", "SCMP_ARCH_ARM"],
        };
        names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// seccompiler's target for a native architecture (compat ABIs are emitted with their
    /// native architecture's generator: only the syscall numbers differ).
    pub(crate) fn target(self) -> seccompiler::TargetArch {
        match self {
            Arch::X86_64 | Arch::I386 => seccompiler::TargetArch::x86_64,
            Arch::Aarch64 | Arch::Arm => seccompiler::TargetArch::aarch64,
        }
    }

    /// Numbers from here up are architecture-private calls outside the regular table (arm's
    /// `set_tls`, `cacheflush`...), not "newer" syscalls.
    pub(crate) fn private_base(self) -> Option<u32> {
        (self == Arch::Arm).then_some(0x000f_0000)
    }

    /// Every syscall of this ABI with its number.
    fn table(self) -> &'static [(&'static str, u32)] {
        tables::table(self)
    }

    /// Every variant, in declaration order (`arch as usize` indexes it).
    const ALL: [Arch; 4] = [Arch::X86_64, Arch::Aarch64, Arch::I386, Arch::Arm];
}

/// A map keyed by syscall names: a profile names ~400 syscalls, each looked up once per ABI,
/// and the default SipHash was a good part of `prepare`'s time.
pub(crate) type NameMap<V> = HashMap<&'static str, V, BuildHasherDefault<Fnv>>;

/// FNV-1a: fast on short keys; the keys are compile-time constants, so no flooding concern.
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The number of syscall `name` on `arch`, if it exists there.
pub fn syscall_number(arch: Arch, name: &str) -> Option<u32> {
    static CELLS: [OnceLock<NameMap<u32>>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    CELLS[arch as usize]
        .get_or_init(|| arch.table().iter().copied().collect())
        .get(name)
        .copied()
}

/// Whether `name` is a syscall on any ABI box has a table for.
pub(crate) fn known_anywhere(name: &str) -> bool {
    compat::known_muxed(name)
        || Arch::ALL
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

    /// Parses a profile that is part of a larger JSON document, such as an OCI config's
    /// `linux.seccomp`; `origin` names it in errors (`config.json: linux.seccomp`).
    pub fn from_value(value: serde_json::Value, origin: &str) -> Result<Profile> {
        json::parse_value(value, origin)
    }

    /// Reads and parses a JSON profile file: a regular file of at most
    /// [`MAX_PROFILE_SIZE`] bytes (a box.toml names it, so it is hostile input: not a fifo
    /// that blocks, nor `/proc/kcore`).
    pub fn load(path: &Path) -> Result<Profile> {
        let text = read_bounded(path).map_err(|source| Error::ProfileRead {
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
