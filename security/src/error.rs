//! The crate's error type: what failed, at which step, with the errno or the entry involved.

use std::fmt;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::capabilities::CapSetKind;

/// A step of `Prepared::apply_identity` / `apply_restrictions` that talks to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `prctl(PR_SET_KEEPCAPS)`.
    KeepCaps,
    /// `setgroups(additional_gids)`.
    SetGroups,
    /// `setresgid(gid, gid, gid)`.
    SetGid,
    /// `setresuid(uid, uid, uid)`.
    SetUid,
    /// `capget` of the current thread.
    CapGet,
    /// `capset` raising the effective set to the permitted set (needed to drop bounding caps).
    RaiseEffective,
    /// `prctl(PR_CAPBSET_DROP, cap)`; the capability number.
    DropBounding(u8),
    /// `capset` of the final effective/permitted/inheritable sets.
    CapSet,
    /// `prctl(PR_CAP_AMBIENT_CLEAR_ALL)`.
    ClearAmbient,
    /// `prctl(PR_CAP_AMBIENT_RAISE, cap)`; the capability number.
    RaiseAmbient(u8),
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    NoNewPrivs,
    /// `seccomp(SECCOMP_SET_MODE_FILTER)`.
    SeccompInstall,
    /// Opening or writing the LSM exec attribute under `/proc/thread-self/attr`.
    LsmExecLabel,
    /// Reading host facts in `prepare` (bounding set, effective set).
    HostProbe,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::KeepCaps => write!(f, "prctl(PR_SET_KEEPCAPS)"),
            Step::SetGroups => write!(f, "setgroups"),
            Step::SetGid => write!(f, "setresgid"),
            Step::SetUid => write!(f, "setresuid"),
            Step::CapGet => write!(f, "capget"),
            Step::RaiseEffective => write!(f, "capset (raise effective to permitted)"),
            Step::DropBounding(c) => write!(f, "prctl(PR_CAPBSET_DROP, {})", cap_name(*c)),
            Step::CapSet => write!(f, "capset (final sets)"),
            Step::ClearAmbient => write!(f, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)"),
            Step::RaiseAmbient(c) => write!(f, "prctl(PR_CAP_AMBIENT_RAISE, {})", cap_name(*c)),
            Step::NoNewPrivs => write!(f, "prctl(PR_SET_NO_NEW_PRIVS)"),
            Step::SeccompInstall => write!(f, "seccomp(SECCOMP_SET_MODE_FILTER)"),
            Step::LsmExecLabel => write!(f, "setting the LSM exec label"),
            Step::HostProbe => write!(f, "probing the host"),
        }
    }
}

fn cap_name(index: u8) -> String {
    crate::capabilities::name_of_index(index)
}

/// Errors of the security layer. User errors come out of [`crate::prepare`]; kernel errors out
/// of the `apply_*` steps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An id of the user is (uid_t)-1, which `setresuid`/`setresgid` read as "leave
    /// unchanged": the process would keep the launcher's (root's) id.
    #[error("user: {what} {id} is (uid_t)-1, which the kernel reads as \"leave unchanged\"")]
    InvalidId {
        /// `uid`, `gid` or `supplementary gid`.
        what: &'static str,
        /// The id as given.
        id: u32,
    },
    /// A capability name in Docker's `add`/`drop` lists is not a capability.
    #[error("capabilities.{list}[{index}]: unknown capability {name:?}")]
    UnknownCapability {
        /// `"add"` or `"drop"`.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// The name as given.
        name: String,
    },
    /// An explicitly added capability is not in the host's bounding set.
    #[error("capabilities.add[{index}]: {name} is not in this host's bounding set, so no process box starts can have it")]
    CapabilityUnavailable {
        /// Position in `capabilities.add`.
        index: usize,
        /// Canonical capability name.
        name: String,
    },
    /// A capability of one of the five sets is not in the host's bounding set.
    #[error("capabilities.{set}: {name} is not in this host's bounding set, so no process box starts can have it")]
    CapabilityNotInHost {
        /// The set.
        set: CapSetKind,
        /// Canonical capability name.
        name: String,
    },
    /// The five sets break a rule the kernel holds them to (effective within permitted, ...).
    #[error("capabilities.{set}: {name} is not in the {within} set, and the kernel keeps {set} within {within}")]
    CapabilityNotWithin {
        /// The set holding the capability.
        set: CapSetKind,
        /// Canonical capability name.
        name: String,
        /// The set it must also be in.
        within: CapSetKind,
    },
    /// A seccomp profile is malformed or uses something box cannot express.
    #[error("{origin}: {location}: {message}")]
    Profile {
        /// The profile file, or `built-in default profile`.
        origin: String,
        /// Where in the profile: `syscalls[3]`, `defaultAction`, `line 4 column 7`, ...
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The profile file could not be read.
    #[error("seccomp profile {}: {source}", path.display())]
    ProfileRead {
        /// The profile path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// seccompiler could not build the filter (e.g. too many instructions).
    #[error("{origin}: building the BPF filter failed: {message}")]
    FilterCompile {
        /// The profile file, or `built-in default profile`.
        origin: String,
        /// What failed.
        message: String,
    },
    /// box has no syscall table for this architecture.
    #[error("seccomp: architecture {arch} is not supported (box builds filters for x86_64 and aarch64); use seccomp = \"unconfined\"")]
    UnsupportedArch {
        /// `std::env::consts::ARCH`.
        arch: String,
    },
    /// Installing a filter without no_new_privs needs CAP_SYS_ADMIN, which the host lacks.
    #[error("seccomp: installing a filter without no_new_privileges needs CAP_SYS_ADMIN, which this host's bounding set lacks; set no_new_privileges = true")]
    SeccompNeedsPrivilege,
    /// An rlimit is malformed (soft above hard, given twice).
    #[error("rlimits[{index}] ({name}): {message}")]
    InvalidRlimit {
        /// Position in the list.
        index: usize,
        /// Canonical resource name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A hard limit above the current one was asked for without CAP_SYS_RESOURCE.
    #[error("rlimits[{index}] ({name}): hard limit {requested} is above the current hard limit {current}, and raising a hard limit needs CAP_SYS_RESOURCE, which box does not have here")]
    RlimitCannotRaise {
        /// Position in the list.
        index: usize,
        /// Canonical resource name.
        name: String,
        /// The requested hard limit.
        requested: u64,
        /// The hard limit in force.
        current: u64,
    },
    /// `setrlimit` failed in the child.
    #[error("setrlimit {name} (soft {soft}, hard {hard}): {errno}; the current hard limit is {current_hard}")]
    Setrlimit {
        /// Canonical resource name.
        name: String,
        /// Requested soft limit.
        soft: u64,
        /// Requested hard limit.
        hard: u64,
        /// The hard limit in force when it failed.
        current_hard: u64,
        /// The errno.
        errno: Errno,
    },
    /// An LSM label was requested on a host that does not run that LSM.
    #[error("{lsm} label {label:?} was requested, but this host does not run {lsm}")]
    LsmUnavailable {
        /// `AppArmor` or `SELinux`.
        lsm: &'static str,
        /// The requested profile/label.
        label: String,
    },
    /// An LSM label is malformed or not loaded.
    #[error("{lsm} label {label:?}: {message}")]
    LsmLabel {
        /// `AppArmor` or `SELinux`.
        lsm: &'static str,
        /// The requested profile/label.
        label: String,
        /// What is wrong.
        message: String,
    },
    /// A host file `prepare` needs could not be read.
    #[error("reading {}: {source}", path.display())]
    HostRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A kernel call failed.
    #[error("{step}: {errno}")]
    Sys {
        /// Which step.
        step: Step,
        /// The errno.
        errno: Errno,
    },
    /// A capability call made through the caps crate failed; its message has the OS error.
    #[error("{step}: {source}")]
    Caps {
        /// Which step.
        step: Step,
        /// What caps reported.
        source: caps::errors::CapsError,
    },
    /// A kernel call on a path failed.
    #[error("{step} ({}): {errno}", path.display())]
    SysPath {
        /// Which step.
        step: Step,
        /// The path involved.
        path: PathBuf,
        /// The errno.
        errno: Errno,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for mapping an error of the caps crate in a step.
pub(crate) fn caps_error(step: Step) -> impl FnOnce(caps::errors::CapsError) -> Error {
    move |source| Error::Caps { step, source }
}

/// Shorthand for mapping an errno of a step.
pub(crate) fn sys(step: Step) -> impl FnOnce(Errno) -> Error {
    move |errno| Error::Sys { step, errno }
}
