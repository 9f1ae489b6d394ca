//! `check` is `prepare` without building the filter: the same errors, the same warnings.

use box_security::{check, prepare, Rlimit, SeccompConfig, SecurityConfig};

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

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
    c.capabilities.add = strings(&["NET_ADMIN", "CAP_FLY"]);
    bad.push(c);
    bad.push(SecurityConfig {
        rlimits: vec![Rlimit {
            resource: "open_files".into(),
            soft: 1,
            hard: 1,
        }],
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
            seccomp: SeccompConfig::Profile(write(name, text)),
            ..SecurityConfig::default()
        });
    }
    for c in &bad {
        let from_check = check(c)
            .expect_err("check accepted a bad config")
            .to_string();
        let from_prepare = prepare(c).unwrap_err().to_string();
        assert_eq!(from_check, from_prepare);
    }

    // Warnings: a profile listing x32 (on x86_64); `add = ["ALL"]` where the host lacks some.
    let mut c = SecurityConfig::default();
    c.capabilities.add = strings(&["ALL"]);
    c.seccomp = SeccompConfig::Profile(write(
        "compat.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32","SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],
            "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
    ));
    let warnings = check(&c).unwrap();
    assert_eq!(warnings, prepare(&c).unwrap().warnings());
    #[cfg(target_arch = "x86_64")]
    assert!(
        warnings.iter().any(|w| w.contains("compat.json")),
        "{warnings:?}"
    );
}
