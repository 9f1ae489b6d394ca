//! Syscalls that act beyond the container: kernel-wide ones, creating namespaces, and joining
//! the host's namespaces through their files.

use std::path::Path;

use box_tests::{ns_id, HostMounts};

use crate::support::{bind, Attack};

/// Host files that the refused calls would change (swap areas, modules), where they exist.
fn host_state() -> Vec<(String, String)> {
    ["/proc/swaps", "/proc/modules"]
        .into_iter()
        .filter_map(|p| Some((p.to_string(), std::fs::read_to_string(p).ok()?)))
        .collect()
}

#[test]
fn kernel_wide_syscalls_are_refused() {
    let attack = Attack::new("atk-privileged", &["/probe", "privileged"], "");
    let (mounts, before) = (HostMounts::snapshot(attack.dir()), host_state());
    let report = attack.run();
    let mut names = vec![
        // "Shocker": the host's root inode opened by handle.
        "open_by_handle_at",
        "init_module",
        "finit_module",
        "delete_module",
        "swapon",
        "swapoff",
        "acct",
        "settimeofday",
        "clock_settime",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "fanotify_init",
        "syslog",
        "quotactl",
        "kcmp",
        "pidfd_getfd",
        "setns",
        "socket(AF_VSOCK)",
        "personality",
        // Docker's default refuses it since 25.0: seccomp never sees what a ring does.
        "io_uring_setup",
    ];
    if cfg!(target_arch = "x86_64") {
        names.extend(["iopl", "ioperm"]);
    }
    for name in names {
        report.assert_errno(name, libc::EPERM);
    }
    mounts.assert_unchanged(attack.dir());
    assert_eq!(host_state(), before);
}

#[test]
fn no_namespace_can_be_created() {
    // The probe runs under a shell, so PID 1 shows the namespaces it should still share.
    let attack = Attack::new(
        "atk-unshare",
        &["/bin/sh", "-c", "/probe namespaces; true"],
        "",
    );
    let report = attack.run();
    for kind in ["mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"] {
        report.assert_errno(&format!("unshare {kind}"), libc::EPERM);
    }
    for kind in ["mnt", "uts", "ipc", "net", "pid", "user", "cgroup"] {
        report.assert_errno(&format!("clone {kind}"), libc::EPERM);
    }
    // Its flags are out of the filter's reach: ENOSYS, so that libc falls back to clone.
    report.assert_errno("clone3 user", libc::ENOSYS);
    let own: Vec<_> = report.starting_with("self/").collect();
    assert!(own.len() >= 8, "{}", report.text);
    for (name, ino) in own {
        let kind = &name["self/".len()..];
        assert_eq!(ino, report.get(&format!("pid1/{kind}")), "{}", report.text);
    }
}

#[test]
fn host_namespace_files_cannot_be_joined() {
    // The test runs in the host's namespaces: its namespace files are the host's. (Not mnt:
    // the kernel refuses to bind an older mount namespace's file into a newer one.)
    let kinds = ["net", "uts", "ipc", "pid", "cgroup"];
    let pid = std::process::id();
    let mounts: String = kinds
        .iter()
        .map(|k| {
            let source = format!("/proc/{pid}/ns/{k}");
            bind(Path::new(&source), &format!("/host-ns/{k}"), true)
        })
        .collect();
    let mut command = vec!["/bin/sh".to_string(), "-c".to_string()];
    let paths: Vec<String> = kinds.iter().map(|k| format!("/host-ns/{k}")).collect();
    command.push(format!("/probe setns {}; true", paths.join(" ")));
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let attack = Attack::new("atk-setns", &command, &mounts);
    let report = attack.run();
    for (kind, path) in kinds.iter().zip(&paths) {
        report.assert_errno(&format!("open {path}"), 0);
        report.assert_errno(&format!("setns {path}"), libc::EPERM);
        // setns of a pid namespace moves the children to come.
        let own = if *kind == "pid" {
            "pid_for_children"
        } else {
            kind
        };
        let host = ns_id(&format!("/proc/self/ns/{kind}")).1.to_string();
        assert_ne!(report.get(&format!("self/{own}")), host, "{}", report.text);
        assert_eq!(
            report.get(&format!("self/{own}")),
            report.get(&format!("pid1/{own}")),
            "{}",
            report.text
        );
    }
}
