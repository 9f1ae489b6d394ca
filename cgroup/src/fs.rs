//! Reading and writing cgroup control files, with the path and errno in every error.
//!
//! Files are opened without `O_CREAT`: a missing control file means a missing controller or
//! kernel feature, and must show up as an error (std opens everything `O_CLOEXEC`).

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;

use nix::errno::Errno;

use crate::error::{errno_of, Error};

/// Write `value` to `dir/file` in one write, as cgroupfs expects.
pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), Error> {
    let path = dir.join(file);
    let err = |e: std::io::Error| Error::Write {
        path: path.clone(),
        value: value.to_string(),
        errno: errno_of(&e),
    };
    // O_TRUNC is ignored by cgroupfs, and keeps prepared test trees honest.
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(err)?;
    f.write_all(value.as_bytes()).map_err(err)
}

/// Read `dir/file` whole.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String, Error> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| Error::Read {
        errno: errno_of(&e),
        path,
    })
}

/// Read `dir/file`, or `None` when it does not exist (controller or feature absent).
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>, Error> {
    match read(dir, file) {
        Ok(s) => Ok(Some(s)),
        Err(Error::Read {
            errno: Errno::ENOENT,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// A parse error for `dir/file` with the offending text.
pub(crate) fn parse_err(dir: &Path, file: &str, content: &str) -> Error {
    Error::Parse {
        path: dir.join(file),
        content: content.to_string(),
    }
}

/// Read a file holding one unsigned number, `None` if the file is absent.
pub(crate) fn read_u64_opt(dir: &Path, file: &str) -> Result<Option<u64>, Error> {
    match read_opt(dir, file)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| parse_err(dir, file, &s)),
    }
}

/// Read a v2 "max or number" file (`memory.max`, `pids.max`): `Some(None)` = "max".
pub(crate) fn read_max_opt(dir: &Path, file: &str) -> Result<Option<Option<u64>>, Error> {
    match read_opt(dir, file)? {
        None => Ok(None),
        Some(s) if s.trim() == "max" => Ok(Some(None)),
        Some(s) => s
            .trim()
            .parse()
            .map(|v| Some(Some(v)))
            .map_err(|_| parse_err(dir, file, &s)),
    }
}

/// The value of `key` in a flat keyed file (`key value` per line: `memory.events`, `cpu.stat`).
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The pids listed in `dir/cgroup.procs` (empty if the directory is gone).
pub(crate) fn procs(dir: &Path) -> Result<Vec<i32>, Error> {
    let text = match read(dir, "cgroup.procs") {
        Ok(t) => t,
        Err(Error::Read {
            errno: Errno::ENOENT | Errno::ENODEV,
            ..
        }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim()
                .parse()
                .map_err(|_| parse_err(dir, "cgroup.procs", &text))
        })
        .collect()
}

/// mkdir; `Ok(false)` if it already existed.
pub(crate) fn mkdir(path: &Path) -> Result<bool, Errno> {
    match std::fs::create_dir(path) {
        Ok(()) => {
            #[cfg(test)]
            crate::testing::on_mkdir(path);
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(errno_of(&e)),
    }
}

/// rmdir; cgroupfs lets a cgroup directory go with its control files once it is empty.
pub(crate) fn rmdir(path: &Path) -> Result<(), Errno> {
    #[cfg(test)]
    crate::testing::before_rmdir(path);
    std::fs::remove_dir(path).map_err(|e| errno_of(&e))
}
