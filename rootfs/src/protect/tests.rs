//! Masked and read-only paths as the container sees them, on this kernel and an old one.

use crate::testutil::{pretend_old_kernel, spawn, wait_ok};
use crate::RootfsConfig;
use nix::fcntl::{open, OFlag};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

fn write_errno(p: &str) -> Option<nix::errno::Errno> {
    // Opened, never written: should it open, nothing changes.
    open(p, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()).err()
}

/// The container's view after `setup`, as the kernel reports it.
fn check() -> Result<(), String> {
    // This kernel may lack /proc/kcore; it has one of the others.
    for p in [
        "/proc/kcore",
        "/proc/timer_list",
        "/proc/keys",
        "/etc/hostname",
    ] {
        if let Ok(m) = std::fs::metadata(p) {
            let empty = std::fs::read(p)
                .map_err(|e| format!("read {p}: {e}"))?
                .is_empty();
            if !(m.file_type().is_char_device() && empty) {
                return Err(format!("{p} is not masked"));
            }
        }
    }
    if let Ok(d) = std::fs::read_dir("/sys/firmware") {
        if d.count() != 0 {
            return Err("/sys/firmware is not masked".into());
        }
    }
    for p in ["/proc/sys/kernel/hostname", "/proc/sysrq-trigger", "/tmp/x"] {
        // This kernel may lack sysrq.
        if p == "/proc/sysrq-trigger" && !Path::new(p).exists() {
            continue;
        }
        let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC;
        let errno = if p == "/tmp/x" {
            open(p, flags, Mode::from_bits_truncate(0o600)).err()
        } else {
            write_errno(p)
        };
        if errno != Some(nix::errno::Errno::EROFS) {
            return Err(format!("{p}: expected EROFS, got {errno:?}"));
        }
    }
    Ok(())
}

/// Docker's lists plus a file and a directory outside /proc and /sys,
/// on this kernel and as on one without openat2, the new mount API and
/// mount_setattr (where box falls back to mount(2) and names it checks).
#[test]
fn masks_and_read_only_paths_hold_on_old_and_new_kernels() {
    for old in [false, true] {
        let child = spawn(
            CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS,
            move || {
                if old {
                    pretend_old_kernel();
                }
                let mut cfg = RootfsConfig::default();
                cfg.masked_paths.push("/etc/hostname".into());
                cfg.masked_paths.push("/run/missing/x".into());
                cfg.readonly_paths.push("/tmp".into());
                crate::setup(&cfg).map_err(|e| format!("old kernel {old}: {e}"))?;
                check().map_err(|e| format!("old kernel {old}: {e}"))?;
                if !Path::new("/etc/hostname").exists() {
                    return Err("the host has no /etc/hostname to test with".into());
                }
                Ok(())
            },
        );
        wait_ok(child);
    }
}
