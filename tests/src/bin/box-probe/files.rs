//! Writing files the container may read but must not change: kernel knobs in `/proc` and
//! `/sys`, and files of a read-only bind mount.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use crate::io_errno;

/// Opens each path for writing and writes **nothing**: for `/proc/sysrq-trigger` or
/// `/proc/sys/kernel/core_pattern` any byte would act on the host, so the open alone is the
/// test. An open that succeeds is closed at once and reported as 0.
pub(crate) fn open_write(paths: &[String]) {
    for path in paths {
        let result = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(path)
            .map(drop);
        println!("open-write {path}: {}", io_errno(result));
    }
}

/// A host-global integer sysctl: prints `value: N`, then tries to open it for writing and, only
/// if that worked, writes N+1 (the test sees the change on the host and restores N).
pub(crate) fn sysctl_bump(path: &str) -> Option<()> {
    let value: u64 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    println!("value: {value}");
    match std::fs::OpenOptions::new().write(true).open(path) {
        Err(e) => println!("open-write: {}", e.raw_os_error().unwrap_or(-1)),
        Ok(mut file) => {
            println!("open-write: 0");
            let written = file.write_all(format!("{}\n", value + 1).as_bytes());
            println!("write: {}", io_errno(written));
        }
    }
    Some(())
}

/// Every way to change `dir/file` and `dir`: append, create, chmod, mkdir, rename, unlink.
pub(crate) fn change_in(dir: &str, file: &str) -> Vec<(String, i32)> {
    let path = format!("{dir}/{file}");
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(b"written from the container\n"));
    let create = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(format!("{dir}/box-probe-new"))
        .map(drop);
    let chmod = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777));
    let mkdir = std::fs::create_dir(format!("{dir}/box-probe-dir"));
    let rename = std::fs::rename(&path, format!("{dir}/box-probe-renamed"));
    let unlink = std::fs::remove_file(&path);
    vec![
        (format!("append {path}"), io_errno(append)),
        (format!("create {dir}/box-probe-new"), io_errno(create)),
        (format!("chmod {path}"), io_errno(chmod)),
        (format!("mkdir {dir}/box-probe-dir"), io_errno(mkdir)),
        (format!("rename {path}"), io_errno(rename)),
        (format!("unlink {path}"), io_errno(unlink)),
    ]
}
