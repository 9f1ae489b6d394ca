//! Root tests: each forks, applies a configuration in the child, and checks what the kernel
//! reports — in-process, or after execve through a probe (this binary re-executed).

mod support;

use std::os::fd::RawFd;
use std::os::unix::fs::PermissionsExt;

use box_security::seccomp::Profile;
use box_security::{
    host_bounding_set, prepare, CapAddDrop, CapSet, Capabilities, Capability, Resource, Rlimit,
    SeccompConfig, SecurityConfig, UserSpec, DOCKER_DEFAULT_CAPS_MASK,
};
use support::{bind_port_80, errno_of, in_child, new_netns, nothing, say, Probe, PROBE_ENV};

const EPERM: i32 = libc::EPERM;

fn cfg() -> SecurityConfig {
    SecurityConfig::default()
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Sets `c`'s capabilities as box.toml's `add`/`drop` would, for `c`'s user, on this host.
fn docker(c: &mut SecurityConfig, add: &[&str], drop: &[&str]) {
    let changes = CapAddDrop {
        add: strings(add),
        drop: strings(drop),
    };
    let host = host_bounding_set().unwrap();
    c.capabilities = Capabilities::docker(&changes, c.user.uid == 0, host)
        .unwrap()
        .capabilities;
}

fn caps(list: &[Capability]) -> CapSet {
    list.iter().copied().collect()
}

fn user(uid: u32) -> UserSpec {
    UserSpec {
        uid,
        gid: uid,
        additional_gids: vec![],
    }
}

fn mask(bits: u64) -> String {
    format!("{bits:016x}")
}

/// Entry point of the probe, when `BOX_SECURITY_PROBE` names a mode. Run as a test (without
/// it), it checks the probe itself: this binary, re-run in mode `euid`, prints our euid.
#[test]
fn probe_entry() {
    let Ok(mode) = std::env::var(PROBE_ENV) else {
        return check_the_probe();
    };
    let code = match mode.as_str() {
        "status" => {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            for line in status.lines().filter(|l| {
                l.starts_with("Cap") || l.starts_with("Seccomp:") || l.starts_with("NoNewPrivs:")
            }) {
                println!("PROBE {line}");
            }
            0
        }
        "bind80" => bind_port_80(),
        "euid" => {
            let euid = nix::unistd::geteuid().as_raw();
            println!("PROBE euid: {euid}");
            i32::from(euid != 0)
        }
        _ => 99,
    };
    std::process::exit(code);
}

fn check_the_probe() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(Probe::ARGS)
        .env(PROBE_ENV, "euid")
        .output()
        .unwrap();
    let want = format!("PROBE euid: {}", nix::unistd::geteuid());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l == want), "{out:?}");
}

#[test]
fn defaults_match_docker_after_execve() {
    let prepared = prepare(&cfg()).unwrap();
    let probe = Probe::new("status");
    let out = in_child(&prepared, nothing, |fd| probe.exec(fd));
    assert_eq!(out.code, 0, "{}", out.output);
    let docker = mask(DOCKER_DEFAULT_CAPS_MASK);
    for (key, want) in [
        ("CapInh", mask(0)),
        ("CapPrm", docker.clone()),
        ("CapEff", docker.clone()),
        ("CapBnd", docker),
        ("CapAmb", mask(0)),
    ] {
        assert_eq!(out.status(key), Some(want), "{key}: {}", out.output);
    }
    assert_eq!(out.status("Seccomp").as_deref(), Some("2"));
    assert_eq!(out.status("NoNewPrivs").as_deref(), Some("0"));
}

#[test]
fn defaults_deny_dangerous_syscalls_with_eperm() {
    let prepared = prepare(&cfg()).unwrap();
    let out = in_child(&prepared, nothing, |fd| {
        let target = c"/nonexistent-box-test";
        // SAFETY: (all calls) raw syscalls with valid pointers or plain integers; every one
        // of them is expected to be refused before it does anything.
        let checks: [(&str, libc::c_long); 6] = unsafe {
            [
                (
                    "mount",
                    libc::syscall(
                        libc::SYS_mount,
                        c"none".as_ptr(),
                        target.as_ptr(),
                        c"tmpfs".as_ptr(),
                        0,
                        0,
                    ),
                ),
                (
                    "unshare(CLONE_NEWUSER)",
                    libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER),
                ),
                // SEIZE does not stop the tracee, should it ever succeed.
                (
                    "ptrace(SEIZE, parent)",
                    libc::syscall(libc::SYS_ptrace, libc::PTRACE_SEIZE, libc::getppid(), 0, 0),
                ),
                (
                    "keyctl",
                    libc::syscall(
                        libc::SYS_keyctl,
                        0,  /* KEYCTL_GET_KEYRING_ID */
                        -3, /* session */
                        0,
                    ),
                ),
                // Bad magic: even with CAP_SYS_BOOT this could only fail with EINVAL.
                ("reboot", libc::syscall(libc::SYS_reboot, 0, 0, 0, 0)),
                // Bad flags: even with CAP_SYS_BOOT this could only fail with EINVAL.
                (
                    "kexec_load",
                    libc::syscall(libc::SYS_kexec_load, 0, 0, 0, 0xffff_0000u64),
                ),
            ]
        };
        let mut failed = 0;
        for (name, rc) in checks {
            let errno = errno_of(rc);
            if errno != EPERM {
                say(fd, &format!("{name}: rc {rc}, errno {errno}"));
                failed += 1;
            }
        }
        failed
    });
    assert_eq!(out.code, 0, "{}", out.output);
}

#[test]
fn root_cannot_bind_low_ports_without_net_bind_service() {
    let mut c = cfg();
    docker(&mut c, &[], &["NET_BIND_SERVICE"]);
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, new_netns, |_| bind_port_80());
    assert_eq!(out.code, libc::EACCES, "{}", out.output);
    // And with the default set it can.
    let prepared = prepare(&cfg()).unwrap();
    let out = in_child(&prepared, new_netns, |_| bind_port_80());
    assert_eq!(out.code, 0, "{}", out.output);
}

#[test]
fn drop_all_empties_every_set_and_root_cannot_chown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-mine");
    std::fs::write(&file, "x").unwrap();
    std::os::unix::fs::chown(&file, Some(4321), Some(4321)).unwrap();
    let mut c = cfg();
    docker(&mut c, &[], &["ALL"]);
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, nothing, |fd| {
        match std::os::unix::fs::chown(&file, Some(0), Some(0)) {
            Err(e) if e.raw_os_error() == Some(EPERM) => 0,
            other => {
                say(fd, &format!("chown: {other:?}"));
                1
            }
        }
    });
    assert_eq!(out.code, 0, "{}", out.output);
    let probe = Probe::new("status");
    let out = in_child(&prepared, nothing, |fd| probe.exec(fd));
    assert_eq!(out.code, 0, "{}", out.output);
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(out.status(key), Some(mask(0)), "{key}: {}", out.output);
    }
}

#[test]
fn non_root_user_keeps_added_capabilities_through_the_ambient_set() {
    let mut c = cfg();
    c.user = user(1000);
    docker(&mut c, &["net_bind_service"], &[]);
    let prepared = prepare(&c).unwrap();
    let bind = Probe::new("bind80");
    let out = in_child(&prepared, new_netns, |fd| bind.exec(fd));
    assert_eq!(
        out.code, 0,
        "non-root bind :80 with ambient NET_BIND_SERVICE: {}",
        out.output
    );
    let status = Probe::new("status");
    let out = in_child(&prepared, nothing, |fd| status.exec(fd));
    let nbs = mask(box_security::Capability::CAP_NET_BIND_SERVICE.bitmask());
    for key in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(out.status(key), Some(nbs.clone()), "{key}: {}", out.output);
    }
    assert_eq!(out.status("CapBnd"), Some(mask(DOCKER_DEFAULT_CAPS_MASK)));

    // Without `add`, a non-root user has nothing after execve (Docker's behaviour).
    let mut c = cfg();
    c.user = user(1000);
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, new_netns, |fd| bind.exec(fd));
    assert_eq!(out.code, libc::EACCES, "{}", out.output);
}

/// The child's own capability lines of /proc/self/status, reported as the probe reports them.
fn report_own_status(fd: RawFd) -> i32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines().filter(|l| l.starts_with("Cap")) {
        say(fd, &format!("PROBE {line}"));
    }
    0
}

#[test]
fn five_explicit_sets_are_set_and_sys_admin_is_held_only_until_execve() {
    use Capability::*;
    // Five different sets, as an OCI config may give them, for a non-root user.
    let mut c = cfg();
    c.user = user(1000);
    c.capabilities = Capabilities {
        bounding: caps(&[CAP_CHOWN, CAP_KILL, CAP_NET_RAW, CAP_NET_BIND_SERVICE]),
        effective: caps(&[CAP_CHOWN]),
        inheritable: caps(&[CAP_NET_BIND_SERVICE, CAP_KILL]),
        permitted: caps(&[CAP_CHOWN, CAP_NET_BIND_SERVICE]),
        ambient: caps(&[CAP_NET_BIND_SERVICE]),
    };
    let prepared = prepare(&c).unwrap();
    let want = |key: &str, set: CapSet| (key.to_string(), Some(mask(set.bits())));
    let sys_admin = caps(&[CAP_SYS_ADMIN]);

    // Before execve: the sets as given, plus CAP_SYS_ADMIN in effective and permitted (the
    // default filter is installed without no_new_privs) but never in the bounding set.
    let out = in_child(&prepared, nothing, report_own_status);
    assert_eq!(out.code, 0, "{}", out.output);
    let sets = c.capabilities;
    for (key, expected) in [
        want("CapBnd", sets.bounding),
        want("CapEff", sets.effective.union(sys_admin)),
        want("CapPrm", sets.permitted.union(sys_admin)),
        want("CapInh", sets.inheritable),
        want("CapAmb", sets.ambient),
    ] {
        assert_eq!(out.status(&key), expected, "{key}: {}", out.output);
    }

    // After execve the kernel recomputes: a non-root user keeps the ambient set only.
    let probe = Probe::new("status");
    let out = in_child(&prepared, nothing, |fd| probe.exec(fd));
    assert_eq!(out.code, 0, "{}", out.output);
    for (key, expected) in [
        want("CapBnd", sets.bounding),
        want("CapEff", sets.ambient),
        want("CapPrm", sets.ambient),
        want("CapInh", sets.inheritable),
        want("CapAmb", sets.ambient),
    ] {
        assert_eq!(out.status(&key), expected, "{key}: {}", out.output);
    }
}

#[test]
fn user_groups_and_rlimits_are_applied() {
    let mut c = cfg();
    c.user = UserSpec {
        uid: 1000,
        gid: 1001,
        additional_gids: vec![2000, 3000],
    };
    c.rlimits = vec![Rlimit {
        resource: Resource::Nofile,
        soft: 100,
        hard: 200,
    }];
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, nothing, |fd| {
        let ids = (
            nix::unistd::getresuid().ok(),
            nix::unistd::getresgid().ok(),
            nix::unistd::getgroups().ok(),
        );
        let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok();
        say(fd, &format!("{ids:?} {limit:?}"));
        let (Some(uids), Some(gids), Some(groups)) = ids else {
            return 1;
        };
        let ok = [uids.real, uids.effective, uids.saved]
            .iter()
            .all(|u| u.as_raw() == 1000)
            && [gids.real, gids.effective, gids.saved]
                .iter()
                .all(|g| g.as_raw() == 1001)
            && groups.iter().map(|g| g.as_raw()).collect::<Vec<_>>() == vec![2000, 3000]
            && limit == Some((100, 200));
        i32::from(!ok)
    });
    assert_eq!(out.code, 0, "{}", out.output);
}

#[test]
fn no_new_privileges_sets_the_flag_and_stops_setuid() {
    // A setuid-root copy of this binary, reachable by uid 1000.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let suid = dir.path().join("suid-probe");
    std::fs::copy(std::env::current_exe().unwrap(), &suid).unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let euid = Probe::at(&suid, "euid");
    let status = Probe::new("status");

    let mut c = cfg();
    c.user = user(1000);
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, nothing, |fd| euid.exec(fd));
    assert_eq!(
        out.status("euid").as_deref(),
        Some("0"),
        "without no_new_privileges setuid works: {}",
        out.output
    );

    c.no_new_privileges = true;
    let prepared = prepare(&c).unwrap();
    let out = in_child(&prepared, nothing, |fd| euid.exec(fd));
    assert_eq!(
        out.status("euid").as_deref(),
        Some("1000"),
        "setuid must not work: {}",
        out.output
    );
    let out = in_child(&prepared, nothing, |fd| status.exec(fd));
    assert_eq!(
        out.status("NoNewPrivs").as_deref(),
        Some("1"),
        "{}",
        out.output
    );
    assert_eq!(out.status("Seccomp").as_deref(), Some("2"));
}

#[test]
fn custom_profile_errno_is_what_the_syscall_returns() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":31}]}"#;
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(&profile, text).unwrap();
    // From a file, and given in place as an OCI config gives it.
    let inline = Profile::from_json(text, "inline").unwrap();
    for seccomp in [
        SeccompConfig::Path(profile),
        SeccompConfig::Inline(Box::new(inline)),
    ] {
        let mut c = cfg();
        c.seccomp = seccomp;
        let prepared = prepare(&c).unwrap();
        let target = dir.path().join("sub");
        let out = in_child(&prepared, nothing, |fd: RawFd| {
            match std::fs::create_dir(&target) {
                Err(e) if e.raw_os_error() == Some(libc::EMLINK) => 0,
                other => {
                    say(fd, &format!("mkdir: {other:?}"));
                    1
                }
            }
        });
        assert_eq!(out.code, 0, "{:?}: {}", c.seccomp, out.output);
    }
}

#[test]
fn user_errors_surface_in_prepare() {
    let changes = CapAddDrop {
        add: strings(&["CAP_NET_ADMIN", "CAP_TELEPORT"]),
        drop: vec![],
    };
    assert_eq!(
        Capabilities::docker(&changes, true, CapSet::all())
            .unwrap_err()
            .to_string(),
        r#"capabilities.add[1]: unknown capability "CAP_TELEPORT""#
    );
    let mut c = cfg();
    c.capabilities.ambient = caps(&[Capability::CAP_CHOWN]);
    assert_eq!(
        prepare(&c).unwrap_err().to_string(),
        "capabilities.ambient: CAP_CHOWN is not in the inheritable set, and the kernel keeps ambient within inheritable"
    );
    let mut c = cfg();
    c.seccomp = SeccompConfig::Path("/nonexistent/profile.json".into());
    let err = prepare(&c).unwrap_err().to_string();
    assert!(
        err.starts_with("seccomp profile /nonexistent/profile.json: "),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-exec.json");
    std::fs::write(&profile, r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#).unwrap();
    let mut c = cfg();
    c.seccomp = SeccompConfig::Path(profile.clone());
    let err = prepare(&c).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: syscalls: execve is not allowed (the filter answers Errno(38)), so no container could start",
            profile.display()
        )
    );
    let mut c = cfg();
    c.apparmor_profile = Some("docker-default".into());
    if !box_security::detect_lsms(std::path::Path::new("/")).apparmor {
        let err = prepare(&c).unwrap_err().to_string();
        assert!(err.contains("this host does not run AppArmor"), "{err}");
    }
}

#[test]
fn missing_capabilities_of_the_host_are_reported() {
    // As on a host whose bounding set lacks CAP_SYS_RESOURCE (this CI machine's does), on any
    // host: capabilities are per thread and prepare reads the calling thread's, so a thread
    // of its own drops it from its bounding, effective and permitted sets first.
    std::thread::spawn(|| {
        for set in [
            caps::CapSet::Bounding,
            caps::CapSet::Effective,
            caps::CapSet::Permitted,
        ] {
            caps::drop(None, set, caps::Capability::CAP_SYS_RESOURCE).unwrap();
        }
        a_host_without_sys_resource_is_reported();
    })
    .join()
    .expect("the thread without CAP_SYS_RESOURCE");
}

fn a_host_without_sys_resource_is_reported() {
    let host = host_bounding_set().unwrap();
    assert!(!host.contains(Capability::CAP_SYS_RESOURCE));
    let changes = CapAddDrop {
        add: strings(&["SYS_RESOURCE"]),
        drop: vec![],
    };
    assert!(Capabilities::docker(&changes, true, host)
        .unwrap_err()
        .to_string()
        .starts_with("capabilities.add[0]: CAP_SYS_RESOURCE is not in this host's bounding set"));
    let mut c = cfg();
    c.capabilities.bounding.insert(Capability::CAP_SYS_RESOURCE);
    assert!(prepare(&c)
        .unwrap_err()
        .to_string()
        .starts_with("capabilities.bounding: CAP_SYS_RESOURCE is not in this host's bounding set"));
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    let mut c = cfg();
    c.rlimits = vec![Rlimit {
        resource: Resource::Nofile,
        soft: 1024,
        hard: hard.saturating_add(1),
    }];
    let err = prepare(&c).unwrap_err().to_string();
    assert!(err.starts_with("rlimits[0] (nofile): hard limit"), "{err}");
    assert!(err.contains(&format!("current hard limit {hard}")), "{err}");
}
