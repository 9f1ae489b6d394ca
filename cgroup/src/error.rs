use std::path::PathBuf;

use nix::errno::Errno;

/// What went wrong in the cgroup layer: the step, the path involved and the errno.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read {path}: {errno}")]
    ReadMountinfo { path: PathBuf, errno: Errno },
    #[error("parse mountinfo line {line}: {text:?}")]
    Mountinfo { line: usize, text: String },
    #[error("no cgroup filesystem (v1 controller or cgroup2) is mounted")]
    NoCgroupMounts,
    #[error("open cgroup hierarchy root {path}: {errno}")]
    OpenRoot { path: PathBuf, errno: Errno },
    #[error("cgroup hierarchy root {path}: {reason}")]
    NotCgroupfs { path: PathBuf, reason: String },
    #[error("invalid cgroup path {path:?}: {reason}")]
    InvalidPath { path: PathBuf, reason: &'static str },
    #[error("create cgroup directory {path}: {errno}")]
    Mkdir { path: PathBuf, errno: Errno },
    #[error(
        "cgroup {path} already exists (a container of that name, or a leftover: destroy it first)"
    )]
    Exists { path: PathBuf },
    #[error("cgroup {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("open cgroup directory {path}: {errno}")]
    OpenDir { path: PathBuf, errno: Errno },
    #[error("lock cgroup directory {path}: {errno}")]
    Lock { path: PathBuf, errno: Errno },
    #[error("read {path}: {errno}")]
    Read { path: PathBuf, errno: Errno },
    #[error("write {value:?} to {path}: {errno}")]
    Write {
        path: PathBuf,
        value: String,
        errno: Errno,
    },
    #[error("unexpected content in {path}: {content:?}")]
    Parse { path: PathBuf, content: String },
    #[error("{field}: not supported here: {reason}")]
    Unsupported { field: &'static str, reason: String },
    #[error("kill process {pid} of cgroup {path}: {errno}")]
    Kill {
        pid: i32,
        path: PathBuf,
        errno: Errno,
    },
    #[error("processes {pids:?} still in {path} after SIGKILL and waiting {waited_ms} ms")]
    StillPopulated {
        path: PathBuf,
        pids: Vec<i32>,
        waited_ms: u128,
    },
    #[error("remove cgroup directory {path}: {errno}")]
    Rmdir { path: PathBuf, errno: Errno },
    #[error("{step} for {path}: {errno}{detail}")]
    Bpf {
        step: &'static str,
        path: PathBuf,
        errno: Errno,
        /// More from the kernel (the verifier's last words), or empty.
        detail: String,
    },
    /// A limit this host cannot take ([`crate::prepare`] validates before creating).
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("device policy not in force: {path} shows {got}, not the policy {want}")]
    DevicePolicy {
        path: PathBuf,
        want: String,
        got: String,
    },
}

/// A resource value the host or the kernel cannot take. `field` is the [`crate::Resources`]
/// field name (`memory`, `cpus`, `io_read_bps`, …) so that a front end can name its own key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The `Resources` field at fault.
    pub field: &'static str,
    /// What is wrong with it, in words meant for the user.
    pub message: String,
}

impl ValidationError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            field,
            message: message.into(),
        }
    }
}

/// A size string that [`crate::parse_size`] does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseSizeError {
    #[error("invalid size {0:?}: expected a number with an optional unit b, k, m, g, t or p (e.g. \"200m\")")]
    Invalid(String),
    #[error("invalid size {input:?}: unknown unit {unit:?} (use b, k, m, g, t or p)")]
    UnknownUnit { input: String, unit: String },
    #[error("invalid size {0:?}: too large")]
    Overflow(String),
}

pub(crate) fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}
