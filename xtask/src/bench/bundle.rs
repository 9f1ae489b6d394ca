//! The same container, written twice: as an OCI bundle (from `runc spec`, edited) and as
//! box.toml files, for each variant.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// One shape of the container, measured with every runtime.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub about: &'static str,
    pub net: bool,
    pub memory: bool,
    pub cgroupns: bool,
}

pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "base",
        about: "pid+net+ipc+uts+mnt namespaces, no limit",
        net: true,
        memory: false,
        cgroupns: false,
    },
    Variant {
        name: "host-net",
        about: "pid+ipc+uts+mnt: the host's network namespace",
        net: false,
        memory: false,
        cgroupns: false,
    },
    Variant {
        name: "mem-200m",
        about: "base + a 200 MiB memory limit",
        net: true,
        memory: true,
        cgroupns: false,
    },
    Variant {
        name: "cgroupns",
        about: "base + a cgroup namespace",
        net: true,
        memory: false,
        cgroupns: true,
    },
];

const MEMORY_LIMIT: u64 = 200 << 20;

/// box's default capabilities, Docker's 14 (security/src/capabilities.rs).
const DOCKER_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// box's extra masked path beyond `runc spec`'s (rootfs/src/config.rs).
const POWERCAP: &str = "/sys/devices/virtual/powercap";

/// `SPEC_BIN spec` in `dir`, edited to run `/bin/true` in `rootfs` as box does: no terminal,
/// root read-write, Docker's capabilities, no seccomp, no rlimits, no no_new_privs (box's
/// defaults), and no `/sys/fs/cgroup` mount: box mounts the container's cgroups there only in
/// a cgroup namespace of its own ([`for_variant`] adds it back for that variant).
pub fn template(spec_bin: &Path, dir: &Path, rootfs: &Path) -> Result<Value> {
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(dir.join("config.json"));
    let status = Command::new(spec_bin)
        .arg("spec")
        .current_dir(dir)
        .status()
        .with_context(|| format!("run {} spec", spec_bin.display()))?;
    if !status.success() {
        bail!("{} spec failed ({status})", spec_bin.display());
    }
    let text = std::fs::read_to_string(dir.join("config.json"))?;
    let mut c: Value = serde_json::from_str(&text).context("parse config.json")?;
    let caps = json!(DOCKER_CAPS);
    let process = c["process"]
        .as_object_mut()
        .context("config.json has no process")?;
    process.insert("terminal".into(), json!(false));
    process.insert("args".into(), json!(["/bin/true"]));
    process.insert("noNewPrivileges".into(), json!(false));
    process.remove("rlimits");
    process.insert(
        "capabilities".into(),
        json!({"bounding": caps, "effective": caps, "permitted": caps}),
    );
    c["root"] = json!({"path": rootfs, "readonly": false});
    if let Some(mounts) = c["mounts"].as_array_mut() {
        mounts.retain(|m| m["destination"] != "/sys/fs/cgroup");
    }
    let linux = c["linux"]
        .as_object_mut()
        .context("config.json has no linux")?;
    linux.remove("seccomp");
    if let Some(masked) = linux.get_mut("maskedPaths").and_then(Value::as_array_mut) {
        if !masked.iter().any(|p| p == POWERCAP) {
            masked.push(json!(POWERCAP));
        }
    }
    Ok(c)
}

/// The template with the variant's namespaces and limits.
pub fn for_variant(template: &Value, v: &Variant) -> Value {
    let mut c = template.clone();
    let mut ns = vec!["pid", "ipc", "uts", "mount"];
    if v.net {
        ns.push("network");
    }
    if v.cgroupns {
        ns.push("cgroup");
        // `runc spec`'s own entry, as box mounts the container's cgroups there.
        if let Some(mounts) = c["mounts"].as_array_mut() {
            mounts.push(json!({
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            }));
        }
    }
    c["linux"]["namespaces"] = ns.iter().map(|t| json!({ "type": t })).collect();
    if v.memory {
        c["linux"]["resources"]["memory"] = json!({ "limit": MEMORY_LIMIT });
    }
    c
}

/// Writes `config` into `bundle` with its own cgroup path (absolute: from each hierarchy's
/// root, never below the cgroup this process is in).
pub fn write(bundle: &Path, config: &Value, cgroups_path: &str) -> Result<()> {
    let mut c = config.clone();
    c["linux"]["cgroupsPath"] = json!(cgroups_path);
    std::fs::create_dir_all(bundle)?;
    std::fs::write(bundle.join("config.json"), serde_json::to_vec(&c)?)
        .with_context(|| format!("write {}/config.json", bundle.display()))
}

/// The variant as a box.toml running `/bin/true`. No name: box names it `box-<pid>`, unique
/// per run. `unconfined` matches the bundle (no seccomp); otherwise box's default profile applies.
pub fn box_toml(rootfs: &Path, v: &Variant, unconfined: bool) -> String {
    box_toml_of(rootfs, v, unconfined, None, &["/bin/true"])
}

/// [`box_toml`] with a name and a command of choice.
pub fn box_toml_of(
    rootfs: &Path,
    v: &Variant,
    unconfined: bool,
    name: Option<&str>,
    command: &[&str],
) -> String {
    let name = name.map_or_else(String::new, |n| format!("name = {n:?}\n"));
    let mut t = format!(
        "{name}command = {command:?}\nrootfs = {:?}\n\n[namespaces]\ncgroup = \"{}\"\nnet = \"{}\"\n",
        rootfs.display().to_string(),
        if v.cgroupns { "new" } else { "host" },
        if v.net { "new" } else { "host" },
    );
    if v.memory {
        t.push_str("\n[resources]\nmemory = \"200m\"\n");
    }
    if unconfined {
        t.push_str("\n[security]\nseccomp = \"unconfined\"\n");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_set_namespaces_and_limits() {
        let template = json!({"mounts": [], "linux": {"namespaces": [], "resources": {}}});
        let mem = for_variant(&template, &VARIANTS[2]);
        assert_eq!(mem["linux"]["resources"]["memory"]["limit"], 200 << 20);
        let types = |c: &Value| -> Vec<String> {
            c["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["type"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            types(&for_variant(&template, &VARIANTS[0])),
            ["pid", "ipc", "uts", "mount", "network"]
        );
        assert!(!types(&for_variant(&template, &VARIANTS[1])).contains(&"network".into()));
        assert!(types(&for_variant(&template, &VARIANTS[3])).contains(&"cgroup".into()));
        let cgroupfs = |c: &Value| {
            c["mounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["destination"] == "/sys/fs/cgroup")
        };
        assert!(!cgroupfs(&for_variant(&template, &VARIANTS[0])));
        assert!(cgroupfs(&for_variant(&template, &VARIANTS[3])));
    }

    #[test]
    fn box_toml_matches_the_variant() {
        let root = Path::new("/r");
        let base = box_toml(root, &VARIANTS[0], true);
        assert!(base.contains("cgroup = \"host\"\nnet = \"new\""));
        assert!(base.contains("seccomp = \"unconfined\""));
        assert!(!box_toml(root, &VARIANTS[0], false).contains("seccomp"));
        assert!(box_toml(root, &VARIANTS[1], true).contains("net = \"host\""));
        assert!(box_toml(root, &VARIANTS[2], true).contains("memory = \"200m\""));
        assert!(box_toml(root, &VARIANTS[3], true).contains("cgroup = \"new\""));
        let named = box_toml_of(root, &VARIANTS[0], true, Some("a"), &["/bin/sleep", "9"]);
        assert!(named.starts_with("name = \"a\"\ncommand = [\"/bin/sleep\", \"9\"]\n"));
    }
}
