//! `features`, `spec`, `--version`: what this runtime is and supports.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::json;

pub fn version() -> i32 {
    println!("box-runc version {}", env!("CARGO_PKG_VERSION"));
    println!("spec: {}", oci_spec::runtime::VERSION);
    0
}

/// The option words box's rootfs layer reads (`Mount::parse`); the rest are refused there.
const MOUNT_OPTIONS: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "exec",
    "loud",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "rbind",
    "relatime",
    "ro",
    "rprivate",
    "rro",
    "rshared",
    "rslave",
    "runbindable",
    "rw",
    "shared",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "unbindable",
];

/// OCI's features document (runtime-spec `features.md`): what `create` accepts.
pub fn features() -> Result<i32> {
    let caps: Vec<String> = box_security::CapSet::all()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let lsm = box_security::detect_lsms(Path::new("/"));
    let doc = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": oci_spec::runtime::VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": MOUNT_OPTIONS,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": caps,
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": true },
            "seccomp": {
                "enabled": true,
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                              "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                "archs": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
            },
            // Applied when this host has them (the security layer checks each label).
            "apparmor": { "enabled": lsm.apparmor },
            "selinux": { "enabled": lsm.selinux },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": false } },
        },
        "annotations": {},
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(0)
}

/// A config.json to start from: oci-spec's defaults, which are runc's `spec` template
/// (`sh` on a `rootfs` directory, read-only root, the usual namespaces and mounts).
pub fn spec(bundle: &Path, rootless: bool) -> Result<i32> {
    if rootless {
        bail!("--rootless: box-runc runs as root only");
    }
    let path = bundle.join("config.json");
    if path.exists() {
        bail!("{} exists: remove it first", path.display());
    }
    let mut spec = oci_spec::runtime::Spec::default();
    // oci-spec's template names its own runtime.
    spec.set_hostname(Some("box".into()));
    let text = serde_json::to_string_pretty(&spec)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}
