//! The values of `box run`'s options that have a form of their own: `-v`, `--tmpfs`,
//! `--ulimit`, `--security-opt`, `-e` and `--env-file`. Each returns the box.toml value, or a
//! message for the option.

use std::collections::BTreeMap;
use std::path::Path;

use super::doc::Mount;

/// `-v SRC:DST[:ro|rw]`: a bind mount of a host path (relative to `cwd`). A SRC that is not a
/// path is a Docker named volume, which box does not have.
pub fn volume(text: &str, cwd: &Path) -> Result<Mount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, options) = match parts.as_slice() {
        [s, t] => (*s, *t, ""),
        [s, t, o] => (*s, *t, *o),
        _ => return Err("expected SRC:DST or SRC:DST:ro".into()),
    };
    if !(source.starts_with('/') || source.starts_with('.')) {
        return Err(format!(
            "{source:?} is a named volume, which box does not have: give a host path (/srv/data, ./data)"
        ));
    }
    let mut readonly = false;
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => readonly = true,
            "rw" => readonly = false,
            other => return Err(format!("unknown option {other:?}: box takes ro or rw")),
        }
    }
    Ok(Mount::Bind {
        source: absolute(source, cwd),
        target: target.to_string(),
        readonly,
    })
}

/// `--tmpfs DST[:size=SIZE,mode=MODE,rw]`.
pub fn tmpfs(text: &str) -> Result<Mount, String> {
    let (target, options) = text.split_once(':').unwrap_or((text, ""));
    let (mut size, mut mode) = (None, None);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", v)) => size = Some(v.to_string()),
            Some(("mode", v)) => mode = Some(v.to_string()),
            None if option == "rw" => {}
            _ => {
                return Err(format!(
                    "unknown option {option:?}: box takes size=, mode= and rw"
                ))
            }
        }
    }
    Ok(Mount::Tmpfs {
        target: target.to_string(),
        size,
        mode,
    })
}

/// `--ulimit NAME=SOFT[:HARD]` → (name, `SOFT` or `[SOFT, HARD]`).
pub fn ulimit(text: &str) -> Result<(String, toml::Value), String> {
    let bad = || "expected NAME=SOFT[:HARD] with numbers (nofile=1024:2048)".to_string();
    let (name, limits) = text.split_once('=').ok_or_else(bad)?;
    let number = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(bad);
    let value = match limits.split_once(':') {
        Some((soft, hard)) => toml::Value::Array(vec![
            toml::Value::Integer(number(soft)?),
            toml::Value::Integer(number(hard)?),
        ]),
        None => toml::Value::Integer(number(limits)?),
    };
    Ok((name.to_string(), value))
}

/// What one `--security-opt` sets.
#[derive(Debug, PartialEq)]
pub enum SecurityOpt {
    Seccomp(String),
    NoNewPrivileges(bool),
    Apparmor(String),
}

/// `seccomp=FILE|unconfined`, `no-new-privileges[=true|false]`, `apparmor=PROFILE` (Docker
/// also takes `:` for `=`).
pub fn security_opt(text: &str, cwd: &Path) -> Result<SecurityOpt, String> {
    let (key, value) = match text.split_once(['=', ':']) {
        Some((k, v)) => (k, Some(v)),
        None => (text, None),
    };
    match (key, value) {
        ("seccomp", Some("unconfined")) => Ok(SecurityOpt::Seccomp("unconfined".into())),
        ("seccomp", Some(file)) if !file.is_empty() => {
            Ok(SecurityOpt::Seccomp(absolute(file, cwd)))
        }
        ("no-new-privileges", None | Some("true")) => Ok(SecurityOpt::NoNewPrivileges(true)),
        ("no-new-privileges", Some("false")) => Ok(SecurityOpt::NoNewPrivileges(false)),
        ("apparmor", Some(profile)) if !profile.is_empty() => {
            Ok(SecurityOpt::Apparmor(profile.into()))
        }
        _ => Err(
            "box takes seccomp=FILE|unconfined, no-new-privileges[=true|false] and apparmor=PROFILE"
                .into(),
        ),
    }
}

/// `-e KEY=VALUE`, or `-e KEY`: the caller's value, none (left out, as Docker) when unset.
pub fn env_entry(text: &str, caller: &dyn Fn(&str) -> Option<String>) -> Option<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) => Some((k.to_string(), v.to_string())),
        None => caller(text).map(|v| (text.to_string(), v)),
    }
}

/// `--env-file FILE`: `KEY=VALUE` lines (and `KEY` alone, as `-e`); blank lines and `#`
/// comments are skipped. The file is read as Docker does: values are not unquoted.
pub fn env_file(
    path: &Path,
    caller: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut env = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        env.extend(env_entry(line, caller));
    }
    Ok(env)
}

/// `text` as an absolute path: relative ones are relative to `cwd`.
pub fn absolute(text: &str, cwd: &Path) -> String {
    if text.starts_with('/') {
        return text.to_string();
    }
    let rel = text.strip_prefix("./").unwrap_or(text);
    let joined = if rel == "." {
        cwd.to_path_buf()
    } else {
        cwd.join(rel)
    };
    joined.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_parse() {
        let cwd = Path::new("/work");
        let m = volume("./data:/data:ro", cwd).unwrap();
        assert!(
            matches!(m, Mount::Bind { ref source, readonly: true, .. } if source == "/work/data")
        );
        assert!(volume("data:/data", cwd)
            .unwrap_err()
            .contains("named volume"));
        assert!(volume("/a:/b:z", cwd).unwrap_err().contains("\"z\""));
        assert!(volume("/a", cwd).is_err());
    }

    #[test]
    fn ulimits_parse() {
        assert_eq!(ulimit("nofile=10").unwrap().1, toml::Value::Integer(10));
        assert!(ulimit("nofile=10:20").unwrap().1.is_array());
        assert!(ulimit("nofile").is_err());
        assert!(ulimit("nofile=-1").is_err());
    }

    #[test]
    fn security_opts_parse() {
        let cwd = Path::new("/w");
        assert_eq!(
            security_opt("seccomp=p.json", cwd).unwrap(),
            SecurityOpt::Seccomp("/w/p.json".into())
        );
        assert_eq!(
            security_opt("no-new-privileges", cwd).unwrap(),
            SecurityOpt::NoNewPrivileges(true)
        );
        assert_eq!(
            security_opt("no-new-privileges:false", cwd).unwrap(),
            SecurityOpt::NoNewPrivileges(false)
        );
        assert!(security_opt("label=disable", cwd).is_err());
    }

    #[test]
    fn env_entries_take_the_callers_value_or_none() {
        let caller = |k: &str| (k == "HOME").then(|| "/root".to_string());
        assert_eq!(
            env_entry("A=b=c", &caller),
            Some(("A".into(), "b=c".into()))
        );
        assert_eq!(
            env_entry("HOME", &caller),
            Some(("HOME".into(), "/root".into()))
        );
        assert_eq!(env_entry("UNSET", &caller), None);
    }
}
