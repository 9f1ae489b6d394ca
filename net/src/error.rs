use std::path::PathBuf;

use nix::errno::Errno;

/// What went wrong in the network layer, naming the object and the step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {errno}")]
    Netlink { what: String, errno: Errno },
    #[error("nftables: {what}: {message}")]
    Nft { what: String, message: String },
    #[error("network store: {what} {path}: {errno}")]
    Store {
        what: String,
        path: PathBuf,
        errno: Errno,
    },
    #[error("write {path}: {errno}")]
    Sysctl { path: String, errno: Errno },
    #[error("{0}")]
    Invalid(String),
    #[error("network {network}: no free address left in {subnet}")]
    Exhausted { network: String, subnet: String },
    #[error("port {port} is already published by container {container}")]
    PortInUse { port: String, container: String },
    #[error("container {container} already has an address on network {network}")]
    NameInUse { container: String, network: String },
    #[error("network {network}: {message}")]
    Network { network: String, message: String },
}

impl Error {
    /// The errno behind this error, when there is one (for the child's report).
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Netlink { errno, .. }
            | Error::Store { errno, .. }
            | Error::Sysctl { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}
