//! Kernel knobs: `/proc/sys`, `/proc/sysrq-trigger`, `/proc/irq` and `/sys` are the host
//! kernel's own (a container's root is the host's root), so writing them acts on the host.
//! Docker's read-only paths and a read-only `/sys` must refuse the open for writing.

use std::path::Path;

use crate::support::Attack;

/// Host-wide knobs whose open for writing must fail. Only opened, never written: a byte to
/// sysrq-trigger acts at once, core_pattern with a `|` runs a host program on the next crash
/// (the classic escape), uevent_helper runs one on the next uevent.
const KNOBS: &[&str] = &[
    "/proc/sysrq-trigger",
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
    "/proc/irq/default_smp_affinity",
    "/sys/kernel/uevent_helper",
    "/sys/kernel/profiling",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/kernel/mm/ksm/run",
    "/sys/power/state",
    "/sys/module/printk/parameters/time",
];

#[test]
fn kernel_knobs_cannot_be_opened_for_writing() {
    let mut command = vec!["/probe", "open-write"];
    command.extend(KNOBS);
    let attack = Attack::new("atk-knobs", &command, "");
    let core_pattern = std::fs::read("/proc/sys/kernel/core_pattern").unwrap();
    let report = attack.run();
    let mut tried = Vec::new();
    for knob in KNOBS {
        // A kernel built without a knob (this CI machine's has no sysrq, modprobe or
        // uevent_helper) has none in the container either: the open must say so, and box
        // must not have created one.
        let want = if Path::new(knob).exists() {
            tried.push(*knob);
            libc::EROFS
        } else {
            libc::ENOENT
        };
        report.assert_errno(&format!("open-write {knob}"), want);
    }
    for group in ["/proc/sys/", "/proc/irq/", "/sys/"] {
        assert!(
            tried.iter().any(|k| k.starts_with(group)),
            "no knob under {group} exists on this host to attack: {tried:?}"
        );
    }
    assert_eq!(
        std::fs::read("/proc/sys/kernel/core_pattern").unwrap(),
        core_pattern
    );
}

/// The sysctl the next test tries to change: host-wide (not per namespace), and harmless to
/// bump by one for the moment a failed defence would leave it changed.
const SYSCTL: &str = "/proc/sys/kernel/printk_ratelimit";

/// Puts a value back if the attack changed it, then fails.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        let now = std::fs::read_to_string(SYSCTL).unwrap_or_default();
        if now != self.0 {
            let _ = std::fs::write(SYSCTL, &self.0);
            if !std::thread::panicking() {
                panic!(
                    "the container changed the host's {SYSCTL} from {:?} to {now:?} (restored)",
                    self.0
                );
            }
        }
    }
}

#[test]
fn a_host_wide_sysctl_cannot_be_changed() {
    let before = std::fs::read_to_string(SYSCTL)
        .unwrap_or_else(|e| panic!("{SYSCTL}: {e}: this test needs a kernel with printk"));
    let restore = Restore(before.clone());
    let attack = Attack::new("atk-sysctl", &["/probe", "sysctl-bump", SYSCTL], "");
    let report = attack.run();
    assert_eq!(report.get("value"), before.trim(), "{}", report.text);
    report.assert_errno("open-write", libc::EROFS);
    drop(restore);
}
