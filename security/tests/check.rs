//! `check` is `prepare` without building the filter: the same errors, the same warnings.

use box_security::seccomp::Profile;
use box_security::{check, prepare, Capability, Resource, Rlimit, SeccompConfig, SecurityConfig};

#[test]
fn check_reports_what_prepare_reports() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let mut bad = Vec::new();
    let mut c = SecurityConfig::default();
    c.capabilities.effective.insert(Capability::CAP_NET_ADMIN);
    bad.push(c);
    let nofile = Rlimit {
        resource: Resource::Nofile,
        soft: 1,
        hard: 1,
    };
    bad.push(SecurityConfig {
        rlimits: vec![nofile, nofile],
        ..SecurityConfig::default()
    });
    for (name, text) in [
        ("syntax.json", r#"{"defaultAction": "SCMP_ACT_ALLOW",,}"#),
        (
            "notify.json",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
        ),
        (
            "typo.json",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdri"],"action":"SCMP_ACT_ERRNO"}]}"#,
        ),
        (
            "no-exec.json",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
        ),
    ] {
        bad.push(SecurityConfig {
            seccomp: SeccompConfig::Path(write(name, text)),
            ..SecurityConfig::default()
        });
    }
    let no_exec = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#;
    bad.push(SecurityConfig {
        seccomp: SeccompConfig::Inline(Box::new(
            Profile::from_json(no_exec, "inline.json").unwrap(),
        )),
        ..SecurityConfig::default()
    });
    for c in &bad {
        let from_check = check(c)
            .expect_err("check accepted a bad config")
            .to_string();
        let from_prepare = prepare(c).unwrap_err().to_string();
        assert_eq!(from_check, from_prepare);
    }

    // Warnings: a profile listing x32 (on x86_64).
    let c = SecurityConfig {
        seccomp: SeccompConfig::Path(write(
            "compat.json",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32","SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],
                "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )),
        ..SecurityConfig::default()
    };
    let warnings = check(&c).unwrap();
    assert_eq!(warnings, prepare(&c).unwrap().warnings());
    #[cfg(target_arch = "x86_64")]
    assert!(
        warnings.iter().any(|w| w.contains("compat.json")),
        "{warnings:?}"
    );
}
