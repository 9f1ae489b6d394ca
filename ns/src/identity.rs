use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::stat::stat;

use crate::{Error, Kind};

/// The identity of a namespace: the (device, inode) of its nsfs file. Two processes are in the
/// same namespace exactly when these are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

impl NsId {
    /// The namespace of `kind` that process `pid` is in.
    pub fn of_pid(pid: i32, kind: Kind) -> Result<NsId, Error> {
        Self::of_path(PathBuf::from(format!("/proc/{pid}/ns/{kind}")))
    }

    /// The namespace of `kind` that the calling process is in.
    pub fn of_self(kind: Kind) -> Result<NsId, Error> {
        Self::of_path(PathBuf::from(format!("/proc/self/ns/{kind}")))
    }

    /// The namespace behind a namespace file (a `/proc/PID/ns/` link or a bind mount of one).
    pub fn of_path(path: PathBuf) -> Result<NsId, Error> {
        match stat(&path) {
            Ok(st) => Ok(NsId {
                dev: st.st_dev,
                ino: st.st_ino,
            }),
            Err(errno) => Err(Error::Identity { path, errno }),
        }
    }
}

/// One row of a comparison of two processes' namespaces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Comparison {
    pub kind: Kind,
    pub a: NsId,
    pub b: NsId,
}

impl Comparison {
    /// Same inode → shared; different → isolated.
    pub fn shared(&self) -> bool {
        self.a == self.b
    }
}

/// Compares every namespace of process `a` with process `b` (`None` = the calling process).
/// Kinds the running kernel does not have (no `/proc/PID/ns/KIND`) are left out.
pub fn compare(a: Option<i32>, b: Option<i32>) -> Result<Vec<Comparison>, Error> {
    let id = |pid: Option<i32>, kind| match pid {
        Some(pid) => NsId::of_pid(pid, kind),
        None => NsId::of_self(kind),
    };
    let mut rows = Vec::new();
    for kind in Kind::ALL {
        match (id(a, kind), id(b, kind)) {
            (Ok(a), Ok(b)) => rows.push(Comparison { kind, a, b }),
            (Err(Error::Identity { errno, .. }), _) | (_, Err(Error::Identity { errno, .. }))
                if errno == Errno::ENOENT && !kind_exists(kind) => {}
            (Err(e), _) | (_, Err(e)) => return Err(e),
        }
    }
    Ok(rows)
}

fn kind_exists(kind: Kind) -> bool {
    std::path::Path::new(&format!("/proc/self/ns/{kind}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_is_shared_with_self() {
        let rows = compare(None, Some(std::process::id() as i32)).unwrap();
        assert!(rows.len() >= 7);
        assert!(rows.iter().all(Comparison::shared));
    }

    #[test]
    fn missing_process_is_an_error_naming_the_path() {
        let err = NsId::of_pid(i32::MAX, Kind::Net).unwrap_err().to_string();
        assert!(err.contains(&format!("/proc/{}/ns/net", i32::MAX)), "{err}");
    }
}
