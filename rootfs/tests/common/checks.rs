//! Checks shared by the root tests, run inside the container.

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use box_rootfs::{setup, RootfsConfig};
use nix::sys::statfs::{DEVPTS_SUPER_MAGIC, PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC};

use super::{errno, fs_type, is_readonly, pids, Check};
use crate::ensure;

/// `setup`, and check it leaves no fd behind (an fd into the old root would
/// keep the host's tree reachable).
pub fn run(cfg: &RootfsConfig) -> Check {
    let fds = || {
        fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .map_err(|e| e.to_string())
    };
    let before = fds()?;
    setup(cfg).map_err(|e| format!("setup: {e}"))?;
    let after = fds()?;
    ensure!(
        before == after,
        "setup leaked fds: {before} before, {after} after"
    );
    Ok(())
}

pub fn erofs(p: &str) -> Check {
    match fs::write(p, b"x") {
        Err(e) if errno(&e) == libc::EROFS => Ok(()),
        other => Err(format!("write {p}: expected EROFS, got {other:?}")),
    }
}

pub fn sh_ok(argv: &[&str]) -> Check {
    for _ in 0..100 {
        match Command::new(argv[0]).args(&argv[1..]).status() {
            Ok(st) => {
                ensure!(st.success(), "{argv:?}: {st}");
                return Ok(());
            }
            // Another test's fork may briefly hold a writable fd of the binary.
            Err(e) if errno(&e) == libc::ETXTBSY => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => return Err(format!("spawn {argv:?}: {e}")),
        }
    }
    Err(format!("spawn {argv:?}: ETXTBSY for a second"))
}

/// The checks every container gets, whatever its root.
pub fn common_checks() -> Check {
    ensure!(
        std::env::current_dir().map_err(|e| e.to_string())? == Path::new("/"),
        "cwd is not /"
    );
    ensure!(
        pids() == ["1"],
        "/proc shows other pid namespaces: {:?}",
        pids()
    );
    ensure!(fs_type("/proc")? == PROC_SUPER_MAGIC, "/proc is not procfs");
    ensure!(
        fs_type("/sys")? == SYSFS_MAGIC && is_readonly("/sys")?,
        "/sys not a read-only sysfs"
    );
    ensure!(fs_type("/dev")? == TMPFS_MAGIC, "/dev not a tmpfs");
    ensure!(
        fs_type("/dev/pts")? == DEVPTS_SUPER_MAGIC,
        "/dev/pts not devpts"
    );
    ensure!(fs_type("/dev/shm")? == TMPFS_MAGIC, "/dev/shm not tmpfs");
    ensure!(
        fs::read_link("/dev/ptmx").ok() == Some("pts/ptmx".into()),
        "/dev/ptmx link"
    );
    ensure!(
        fs::read_link("/dev/fd").ok() == Some("/proc/self/fd".into()),
        "/dev/fd link"
    );
    fs::write("/dev/null", b"discarded").map_err(|e| format!("write /dev/null: {e}"))?;
    let mut z = [1u8; 16];
    fs::File::open("/dev/zero")
        .and_then(|mut f| f.read_exact(&mut z))
        .map_err(|e| format!("/dev/zero: {e}"))?;
    ensure!(z == [0; 16], "/dev/zero gave non-zero bytes");
    ensure!(
        fs::metadata("/dev/null")
            .map(|m| m.file_type().is_char_device())
            .unwrap_or(false),
        "/dev/null not a char device"
    );
    // Masked: files are /dev/null (this kernel may lack /proc/kcore), firmware
    // is an empty directory.
    let mut masked = 0;
    for p in ["/proc/kcore", "/proc/timer_list", "/proc/keys"] {
        if let Ok(m) = fs::metadata(p) {
            let data = fs::read(p).map_err(|e| format!("read {p}: {e}"))?;
            ensure!(
                m.file_type().is_char_device() && data.is_empty(),
                "{p} not masked"
            );
            masked += 1;
        }
    }
    ensure!(masked > 0, "no masked /proc file found to check");
    if Path::new("/sys/firmware").exists() {
        ensure!(
            fs::read_dir("/sys/firmware")
                .map(|d| d.count())
                .unwrap_or(1)
                == 0,
            "/sys/firmware not masked"
        );
    }
    // Read-only: /proc/sys (this is our own UTS namespace anyway).
    erofs("/proc/sys/kernel/hostname")?;
    for p in ["/proc/sysrq-trigger", "/proc/fs", "/proc/irq"] {
        if Path::new(p).exists() {
            ensure!(is_readonly(p)?, "{p} writable");
        }
    }
    // The host's tree and the staging dirs are gone.
    for p in ["/oldroot", "/newroot", "/work"] {
        ensure!(!Path::new(p).exists(), "{p} visible in the container");
    }
    let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    ensure!(
        !info.contains("oldroot") && !info.contains("newroot"),
        "staging mounts left:\n{info}"
    );
    Ok(())
}

/// A tiny root: busybox, a marker, nothing else of the host.
pub fn tiny_root(tmp: &Path) -> PathBuf {
    let root = tmp.join("root");
    fs::create_dir_all(root.join("bin")).unwrap();
    // A hard link, not a copy: a copy's writable fd may be inherited by
    // another test's fork and make exec fail with ETXTBSY.
    if fs::hard_link("/bin/busybox", root.join("bin/busybox")).is_err() {
        fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    }
    fs::write(root.join("marker"), b"inside").unwrap();
    root
}
