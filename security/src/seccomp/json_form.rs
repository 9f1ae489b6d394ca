//! [`Profile`] as serde data: the Docker/OCI JSON form `json.rs` reads, so that a profile
//! given in place (`SeccompConfig::Inline`) survives a round trip through a spec file.

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::json::{self, FLAGS, OPS};
use super::{Action, Applicability, Profile};

/// The `origin` of a profile read back from serde data (it names the profile in errors).
pub const INLINE_ORIGIN: &str = "inline seccomp profile";

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        to_value(self)
            .map_err(ser::Error::custom)?
            .serialize(serializer)
    }
}

/// Checked as [`Profile::from_json`] checks a file; `origin` is [`INLINE_ORIGIN`].
impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        json::parse_value(value, INLINE_ORIGIN).map_err(de::Error::custom)
    }
}

/// The profile as Docker/OCI JSON; `Err` names what that format cannot say.
fn to_value(profile: &Profile) -> Result<Value, String> {
    let origin = &profile.origin;
    let mut doc = Map::new();
    put_action(
        &mut doc,
        ("defaultAction", "defaultErrnoRet"),
        profile.default_action,
    );
    if !profile.architectures.is_empty() {
        doc.insert("architectures".into(), json!(profile.architectures));
    }
    if !profile.arch_map.is_empty() {
        let map: Vec<Value> = profile
            .arch_map
            .iter()
            .map(|e| json!({"architecture": e.architecture, "subArchitectures": e.sub_architectures}))
            .collect();
        doc.insert("archMap".into(), Value::Array(map));
    }
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, bit)| profile.flags & bit != 0)
        .map(|(name, _)| *name)
        .collect();
    let named = FLAGS.iter().fold(0, |all, (_, bit)| all | bit);
    if profile.flags & !named != 0 {
        return Err(format!(
            "{origin}: flags {:#x} have no name in a JSON profile",
            profile.flags & !named
        ));
    }
    if !names.is_empty() {
        doc.insert("flags".into(), json!(names));
    }
    let mut syscalls = Vec::with_capacity(profile.syscalls.len());
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let mut entry = Map::new();
        entry.insert("names".into(), json!(rule.names));
        put_action(&mut entry, ("action", "errnoRet"), rule.action);
        let mut args = Vec::with_capacity(rule.args.len());
        for c in &rule.args {
            if c.low32 {
                return Err(format!(
                    "{origin}: syscalls[{i}]: a comparison of an argument's low 32 bits has no JSON form"
                ));
            }
            let op = OPS.iter().find(|(_, op)| *op == c.op).map(|(name, _)| name);
            args.push(
                json!({"index": c.index, "value": c.value, "valueTwo": c.value_two, "op": op}),
            );
        }
        if !args.is_empty() {
            entry.insert("args".into(), Value::Array(args));
        }
        for (key, when) in [("includes", &rule.includes), ("excludes", &rule.excludes)] {
            if !when.is_empty() {
                entry.insert(key.into(), applicability(when));
            }
        }
        syscalls.push(Value::Object(entry));
    }
    if !syscalls.is_empty() {
        doc.insert("syscalls".into(), Value::Array(syscalls));
    }
    Ok(Value::Object(doc))
}

/// `"SCMP_ACT_ERRNO"` under `keys.0`, and its errno (or trace value) under `keys.1`.
fn put_action(doc: &mut Map<String, Value>, keys: (&str, &str), action: Action) {
    let (name, data) = match action {
        Action::Allow => ("SCMP_ACT_ALLOW", None),
        Action::Errno(errno) => ("SCMP_ACT_ERRNO", Some(errno)),
        Action::KillThread => ("SCMP_ACT_KILL_THREAD", None),
        Action::KillProcess => ("SCMP_ACT_KILL_PROCESS", None),
        Action::Trap => ("SCMP_ACT_TRAP", None),
        Action::Log => ("SCMP_ACT_LOG", None),
        Action::Trace(value) => ("SCMP_ACT_TRACE", Some(value)),
    };
    doc.insert(keys.0.into(), json!(name));
    if let Some(data) = data {
        doc.insert(keys.1.into(), json!(data));
    }
}

fn applicability(when: &Applicability) -> Value {
    let mut doc = Map::new();
    if !when.caps.is_empty() {
        let caps: Vec<String> = when.caps.iter().map(|c| c.to_string()).collect();
        doc.insert("caps".into(), json!(caps));
    }
    if !when.arches.is_empty() {
        doc.insert("arches".into(), json!(when.arches));
    }
    if let Some(k) = when.min_kernel {
        doc.insert(
            "minKernel".into(),
            json!(format!("{}.{}", k.major, k.minor)),
        );
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field box reads, once.
    const FULL: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [
            {"names": ["read", "write", "execve"], "action": "SCMP_ACT_ALLOW"},
            {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 31},
            {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
            {"names": ["kill"], "action": "SCMP_ACT_KILL"},
            {"names": ["reboot"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["sync"], "action": "SCMP_ACT_TRAP"},
            {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"},
                      {"index": 1, "value": 15, "valueTwo": 5, "op": "SCMP_CMP_MASKED_EQ"}],
             "includes": {"arches": ["amd64"], "minKernel": "4.8"},
             "excludes": {"caps": ["CAP_NET_ADMIN"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
        ]
    }"#;

    #[test]
    fn a_profile_round_trips_through_its_json_form() {
        let profile = Profile::from_json(FULL, INLINE_ORIGIN).unwrap();
        let text = serde_json::to_string(&profile).unwrap();
        let back: Profile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, profile);
        // The form is the one a file holds: parsing it as a file gives the same profile.
        assert_eq!(Profile::from_json(&text, INLINE_ORIGIN).unwrap(), profile);
    }

    #[test]
    fn reading_one_back_checks_it_as_a_file_is_checked() {
        let err = serde_json::from_str::<Profile>(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "inline seccomp profile: syscalls[0]: SCMP_ACT_NOTIFY needs a seccomp agent, which box does not support"
        );
        let err = serde_json::from_str::<Profile>(r#"{"syscalls":[]}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("inline seccomp profile: top level: missing field `defaultAction`"),
            "{err}"
        );
    }

    #[test]
    fn what_json_cannot_say_is_an_error_not_a_silent_change() {
        // The built-in default compares int arguments on their low 32 bits.
        let err = serde_json::to_string(&Profile::docker_default()).unwrap_err();
        assert!(err.to_string().contains("low 32 bits"), "{err}");
    }
}
