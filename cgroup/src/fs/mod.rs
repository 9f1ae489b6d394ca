//! Reading and writing cgroup control files, with the path and errno in every error.
//!
//! Every access goes through a [`Dir`]: a directory fd of the hierarchy's root (checked with
//! `fstatfs` when the layout came from mountinfo) and plain names below it, opened without
//! following symlinks (see [`resolve`]). Files are opened without `O_CREAT`: a missing control
//! file means a missing controller or kernel feature, and must show up as an error.

mod dir;
mod resolve;
#[cfg(test)]
mod tests;
mod tree;

pub(crate) use dir::{open_slash, Dir, Expected, Root};
pub(crate) use tree::{identity, is_dir, mkdir, mkdir_in, open_dir, rmdir, subdirs};

use std::fs::File;
use std::io::Write;

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::{errno_of, Error};

/// Write `value` to `dir/file` in one write, as cgroupfs expects.
pub(crate) fn write(dir: &Dir, file: &str, value: &str) -> Result<(), Error> {
    write_each(dir, file, &[value])
}

/// Write each of `values` to `dir/file` in a write of its own, through one open: for a file
/// that takes one entry per write (v1 `devices.allow`), instead of opening it for each.
pub(crate) fn write_each<S: AsRef<str>>(dir: &Dir, file: &str, values: &[S]) -> Result<(), Error> {
    let err = |value: &str, errno| Error::Write {
        path: dir.path().join(file),
        value: value.to_string(),
        errno,
    };
    let first = values.first().map_or("", AsRef::as_ref);
    // O_TRUNC is ignored by cgroupfs, and keeps prepared test trees honest.
    let fd = dir
        .open(file, OFlag::O_WRONLY | OFlag::O_TRUNC)
        .map_err(|errno| err(first, errno))?;
    let mut file = File::from(fd);
    for value in values.iter().map(AsRef::as_ref) {
        file.write_all(value.as_bytes())
            .map_err(|e| err(value, errno_of(&e)))?;
    }
    Ok(())
}

/// Read `dir/file` whole.
pub(crate) fn read(dir: &Dir, file: &str) -> Result<String, Error> {
    let err = |errno| Error::Read {
        path: dir.path().join(file),
        errno,
    };
    let fd = dir.open(file, OFlag::O_RDONLY).map_err(err)?;
    // Plain reads until EOF: a control file is small, and `read_to_string` would first ask
    // its size (`statx`, 0 on cgroupfs) and position (`lseek`) each time.
    let mut buf = vec![0u8; 512];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match nix::unistd::read(&fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(err(errno)),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).map_err(|_| err(Errno::EILSEQ))
}

/// Read `dir/file`, or `None` when it does not exist (controller or feature absent).
pub(crate) fn read_opt(dir: &Dir, file: &str) -> Result<Option<String>, Error> {
    match read(dir, file) {
        Ok(s) => Ok(Some(s)),
        Err(Error::Read {
            errno: Errno::ENOENT,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `dir/file` exists (and is no symlink).
pub(crate) fn exists(dir: &Dir, file: &str) -> bool {
    dir.open(file, OFlag::O_PATH).is_ok()
}

/// A parse error for `dir/file` with the offending text.
pub(crate) fn parse_err(dir: &Dir, file: &str, content: &str) -> Error {
    Error::Parse {
        path: dir.path().join(file),
        content: content.to_string(),
    }
}

/// Read a file holding one unsigned number, `None` if the file is absent.
pub(crate) fn read_u64_opt(dir: &Dir, file: &str) -> Result<Option<u64>, Error> {
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
pub(crate) fn read_max_opt(dir: &Dir, file: &str) -> Result<Option<Option<u64>>, Error> {
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
pub(crate) fn procs(dir: &Dir) -> Result<Vec<i32>, Error> {
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
