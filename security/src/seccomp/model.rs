//! The profile model shared by the built-in default and JSON profiles.

use std::path::Path;

use crate::capabilities::Capability;
use crate::error::{Error, Result};

/// What the filter does with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Let it through.
    Allow,
    /// Fail it with this errno.
    Errno(u16),
    /// Kill the calling thread (`SCMP_ACT_KILL`, `SCMP_ACT_KILL_THREAD`).
    KillThread,
    /// Kill the whole process.
    KillProcess,
    /// Send SIGSYS.
    Trap,
    /// Let it through and log it.
    Log,
    /// Notify a ptrace tracer with this value (fails with ENOSYS when there is none).
    Trace(u16),
}

impl Action {
    /// The `SECCOMP_RET_*` value.
    pub fn to_ret(self) -> u32 {
        match self {
            Action::Allow => libc::SECCOMP_RET_ALLOW,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | u32::from(e),
            Action::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Action::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
            Action::Trap => libc::SECCOMP_RET_TRAP,
            Action::Log => libc::SECCOMP_RET_LOG,
            Action::Trace(v) => libc::SECCOMP_RET_TRACE | u32::from(v),
        }
    }

    /// The action a `SECCOMP_RET_*` value stands for (`None` for values box never emits).
    pub fn from_ret(ret: u32) -> Option<Action> {
        let data = (ret & libc::SECCOMP_RET_DATA) as u16;
        match ret & libc::SECCOMP_RET_ACTION_FULL {
            libc::SECCOMP_RET_ALLOW => Some(Action::Allow),
            libc::SECCOMP_RET_ERRNO => Some(Action::Errno(data)),
            libc::SECCOMP_RET_KILL_THREAD => Some(Action::KillThread),
            libc::SECCOMP_RET_KILL_PROCESS => Some(Action::KillProcess),
            libc::SECCOMP_RET_TRAP => Some(Action::Trap),
            libc::SECCOMP_RET_LOG => Some(Action::Log),
            libc::SECCOMP_RET_TRACE => Some(Action::Trace(data)),
            _ => None,
        }
    }

    /// How strongly the action denies, in the kernel's precedence order (higher = stronger).
    pub(crate) fn severity(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Log => 1,
            Action::Trace(_) => 2,
            Action::Errno(_) => 3,
            Action::Trap => 4,
            Action::KillThread => 5,
            Action::KillProcess => 6,
        }
    }

    /// Allow, Log and Trace let the syscall run (runc's notion of an "allow" action).
    pub(crate) fn lets_through(self) -> bool {
        matches!(self, Action::Allow | Action::Log | Action::Trace(_))
    }
}

/// A comparison of one syscall argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `arg == value`
    Eq,
    /// `arg != value`
    Ne,
    /// `arg < value`
    Lt,
    /// `arg <= value`
    Le,
    /// `arg > value`
    Gt,
    /// `arg >= value`
    Ge,
    /// `arg & value == value_two`
    MaskedEq,
}

/// One argument condition of a rule; all conditions of a rule must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCondition {
    /// Argument index, 0..=5.
    pub index: u8,
    /// The comparison.
    pub op: CmpOp,
    /// Compared value (the mask for `MaskedEq`).
    pub value: u64,
    /// The expected masked value for `MaskedEq`; unused otherwise.
    pub value_two: u64,
    /// Compare only the low 32 bits (for `int` arguments, whose upper register half is
    /// garbage the kernel ignores). JSON profiles compare all 64 bits, as libseccomp does.
    pub low32: bool,
}

/// When a rule applies (`includes`) or does not (`excludes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applicability {
    /// Capabilities in the container's bounding set (includes: all of them; excludes: any).
    pub caps: Vec<Capability>,
    /// Architecture names (Go's: `amd64`, `arm64`, ...): any matching the host.
    pub arches: Vec<String>,
    /// Minimum kernel version.
    pub min_kernel: Option<KernelVersion>,
}

impl Applicability {
    /// Whether nothing is specified.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// One `syscalls[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallRule {
    /// Syscall names.
    pub names: Vec<String>,
    /// Action when a name matches and all `args` conditions hold.
    pub action: Action,
    /// Argument conditions (AND).
    pub args: Vec<ArgCondition>,
    /// The rule applies only if all of these hold.
    pub includes: Applicability,
    /// The rule does not apply if any of these holds.
    pub excludes: Applicability,
}

/// A kernel version `major.minor`, as `minKernel` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl KernelVersion {
    /// Parses `"6.18"` or a release string such as `"6.18.44-generic"`.
    pub fn parse(text: &str) -> Option<KernelVersion> {
        let mut parts = text.trim().splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor_text = parts.next()?;
        let digits: String = minor_text
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let minor = digits.parse().ok()?;
        Some(KernelVersion { major, minor })
    }

    /// The running kernel's version, from `/proc/sys/kernel/osrelease`.
    pub fn running() -> Result<KernelVersion> {
        let path = Path::new("/proc/sys/kernel/osrelease");
        let text = std::fs::read_to_string(path).map_err(|source| Error::HostRead {
            path: path.to_path_buf(),
            source,
        })?;
        KernelVersion::parse(&text).ok_or_else(|| Error::HostRead {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unparsable release {text:?}"),
            ),
        })
    }
}

/// An `architectures` / `archMap` entry of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchMapEntry {
    /// Main architecture (`SCMP_ARCH_X86_64`).
    pub architecture: String,
    /// Its compat ABIs (`SCMP_ARCH_X86`, `SCMP_ARCH_X32`).
    pub sub_architectures: Vec<String>,
}

/// A seccomp profile in Docker's model, independent of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Where it came from, for error messages (a path, or `built-in default profile`).
    pub origin: String,
    /// Action for syscalls no rule matches.
    pub default_action: Action,
    /// `architectures` (libseccomp names). Empty = the native one.
    pub architectures: Vec<String>,
    /// `archMap`: the entry for the host's architecture adds it and its sub-architectures.
    pub arch_map: Vec<ArchMapEntry>,
    /// `SECCOMP_FILTER_FLAG_*` bits to install the filter with.
    pub flags: u32,
    /// The rules, in profile order.
    pub syscalls: Vec<SyscallRule>,
}
