use nix::errno::Errno;

use crate::protocol::{self, Step};

/// A failure of the start sequence or of supervision, naming the layer and the step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("namespaces: {0}")]
    Ns(#[from] box_ns::Error),
    #[error("cgroup: {0}")]
    Cgroup(#[from] box_cgroup::Error),
    #[error("cgroup limits: {0}")]
    CgroupLimits(#[from] box_cgroup::ValidationError),
    #[error("rootfs: {0}")]
    Rootfs(#[from] box_rootfs::Error),
    #[error("security: {0}")]
    Security(#[from] box_security::Error),
    #[error("network: {0}")]
    Net(#[from] box_net::Error),
    #[error("{step}: {errno}")]
    Sys { step: &'static str, errno: Errno },
    /// A step inside the container failed; `message` says which and why.
    #[error("{message}")]
    InContainer {
        step: Step,
        errno: Errno,
        message: String,
    },
    /// The child's report pipe carried something that is not a message.
    #[error("the container's start report: {0}")]
    Protocol(#[from] protocol::BadMessage),
    #[error("invalid container spec: {0}")]
    InvalidSpec(String),
    #[error("container process ended before it started its command")]
    ChildVanished,
}

impl Error {
    pub(crate) fn sys(step: &'static str) -> impl FnOnce(Errno) -> Error {
        move |errno| Error::Sys { step, errno }
    }

    /// The exit code Docker users expect for this failure: 127 when the command was not found,
    /// 126 when it could not be executed, 125 for any other failure to start.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InContainer { step, errno, .. } => protocol::start_failure_code(*step, *errno),
            _ => protocol::exit_code::CANNOT_START,
        }
    }

    /// The errno behind this error, when there is one (for the child's report).
    pub(crate) fn errno(&self) -> Errno {
        match self {
            Error::Sys { errno, .. } | Error::InContainer { errno, .. } => *errno,
            Error::Net(e) => e.errno().unwrap_or(Errno::UnknownErrno),
            _ => Errno::UnknownErrno,
        }
    }
}
