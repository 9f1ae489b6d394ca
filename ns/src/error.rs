use std::path::PathBuf;

use nix::errno::Errno;

/// What went wrong in the namespace layer, with the step and the errno.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read namespace {path}: {errno}")]
    Identity { path: PathBuf, errno: Errno },
    #[error("open namespace {path} to join: {errno}")]
    OpenJoin { path: PathBuf, errno: Errno },
    #[error("{path} is not a {kind} namespace")]
    WrongKind { path: PathBuf, kind: &'static str },
    #[error("setns into {kind} namespace {path}: {errno}")]
    Setns {
        kind: &'static str,
        path: PathBuf,
        errno: Errno,
    },
    #[error("unshare {kind} namespace: {errno}")]
    Unshare { kind: &'static str, errno: Errno },
    #[error("clone into new namespaces: {errno}")]
    Clone { errno: Errno },
    #[error("write {path}: {errno}")]
    IdMap { path: PathBuf, errno: Errno },
    #[error("become root of the new user namespace: {step}: {errno}")]
    BecomeRoot { step: &'static str, errno: Errno },
    #[error("sethostname: {errno}")]
    Hostname { errno: Errno },
    #[error("setdomainname: {errno}")]
    Domainname { errno: Errno },
    #[error("sysctl {key}: {why}")]
    Sysctl { key: String, why: String },
    #[error("invalid id mapping: {0}")]
    InvalidIdMap(String),
}
