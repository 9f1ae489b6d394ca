//! `[security]` and `user` → `SecurityConfig`, checked against this host.

use box_security::{
    CapSet, CapabilityConfig, Error as SecurityError, Rlimit, SeccompConfig, SecurityConfig,
};

use super::locate::suggest;
use super::process::user;
use super::rootfs::absolute;
use super::schema;
use super::to_spec::{key, Ctx};
use super::{ConfigError, Seg};

/// `[security]` and `user` → `SecurityConfig`, checked against this host by
/// `box_security::check` (everything `prepare` checks, without building the seccomp filter,
/// which the launcher builds once). Its errors are pinned to the key they come from; its
/// warnings are printed here, so `box validate` and `box up` both show them.
pub fn security(c: &Ctx<'_>) -> Result<SecurityConfig, ConfigError> {
    /// Pins an error of `box_security::check` to the box.toml key it comes from.
    fn pin(c: &Ctx<'_>, e: SecurityError) -> ConfigError {
        let rlimits = &c.file.security.rlimits;
        let under = |path: &[&str], last: Option<usize>| -> Vec<Seg> {
            let mut segs = key(&[&["security"], path].concat());
            segs.extend(last.map(Seg::Index));
            segs
        };
        // The n-th rlimit of the config is the n-th key of the (ordered) table.
        let rlimit = |index: usize| {
            let name = rlimits.keys().nth(index).map_or("", String::as_str);
            under(&["rlimits", name], None)
        };
        let hint = |word: &str, known: &[&str], otherwise: String| {
            suggest(word, known.iter().copied())
                .map_or(otherwise, |good| format!(" (did you mean \"{good}\"?)"))
        };
        match e {
            SecurityError::UnknownCapability { list, index, name } => {
                let upper = name.trim().to_ascii_uppercase();
                let prefix = if upper.starts_with("CAP_") { "CAP_" } else { "" };
                let bare = upper.trim_start_matches("CAP_");
                let known: Vec<String> = CapSet::all()
                    .iter()
                    .map(|c| format!("{prefix}{}", c.to_string().trim_start_matches("CAP_")))
                    .collect();
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                let otherwise = "; use names like \"NET_ADMIN\" or \"CAP_NET_ADMIN\", or \"ALL\"";
                let hint = hint(&format!("{prefix}{bare}"), &known, otherwise.into());
                c.error_at(
                    &under(&["capabilities", list], Some(index)),
                    format!("unknown capability {name:?}{hint}"),
                )
            }
            SecurityError::CapabilityUnavailable { index, name } => c.error_at(
                &under(&["capabilities", "add"], Some(index)),
                format!(
                    "{name} is not in this host's bounding set, so no process box starts can have it"
                ),
            ),
            SecurityError::UnknownRlimit { index, name, known } => {
                let names: Vec<&str> = known.split(", ").collect();
                let lower = name.to_ascii_lowercase();
                let hint = hint(&lower, &names, format!("; known: {known}"));
                c.error_at(&rlimit(index), format!("unknown resource {name:?}{hint}"))
            }
            SecurityError::InvalidRlimit { index, name, message } => {
                // `nofile` and `RLIMIT_NOFILE` are two TOML keys but one resource.
                let this = rlimits.keys().nth(index);
                let other = rlimits.keys().find(|k| {
                    Some(*k) != this
                        && box_security::parse_rlimit_name(k).is_some_and(|(n, _)| n == name)
                });
                let message = match other {
                    Some(other) => format!("names the same resource ({name}) as {other:?}"),
                    None => message,
                };
                c.error_at(&rlimit(index), message)
            }
            SecurityError::RlimitCannotRaise {
                index,
                requested,
                current,
                ..
            } => c.error_at(
                &rlimit(index),
                format!(
                    "hard limit {requested} is above the current hard limit {current}; raising \
                     a hard limit needs CAP_SYS_RESOURCE, which box does not have here"
                ),
            ),
            e @ (SecurityError::Profile { .. }
            | SecurityError::ProfileRead { .. }
            | SecurityError::FilterCompile { .. }
            | SecurityError::UnsupportedArch { .. }
            | SecurityError::SeccompNeedsPrivilege) => {
                let text = e.to_string();
                let text = text.strip_prefix("seccomp: ").unwrap_or(&text);
                c.error_at(&under(&["seccomp"], None), text)
            }
            e @ (SecurityError::LsmUnavailable { lsm, .. }
            | SecurityError::LsmLabel { lsm, .. }) => {
                let field = if lsm == "AppArmor" {
                    "apparmor"
                } else {
                    "selinux_label"
                };
                c.error_at(&under(&[field], None), e.to_string())
            }
            e @ SecurityError::InvalidId { .. } => c.error_at(&key(&["user"]), e.to_string()),
            e => c.error_at(&key(&["security"]), e.to_string()),
        }
    }

    let f = c.file;
    let s = &f.security;
    let at = |path: &[&str], msg: String| c.err(path, msg);
    let seccomp = match s.seccomp.as_deref() {
        None | Some("default") => SeccompConfig::Default,
        Some("unconfined") => SeccompConfig::Unconfined,
        Some(path) => {
            let file = absolute(&c.loaded.base_dir(), path);
            if !file.is_file() {
                return Err(at(
                    &["security", "seccomp"],
                    format!("{} is not a file (use \"default\", \"unconfined\" or a path to a JSON profile)", file.display()),
                ));
            }
            SeccompConfig::Profile(file)
        }
    };
    let rlimits = s
        .rlimits
        .iter()
        .map(|(name, value)| {
            let (soft, hard) = match value {
                schema::Rlimit::Both(n) => (*n, *n),
                schema::Rlimit::SoftHard([soft, hard]) => (*soft, *hard),
            };
            if soft > hard {
                return Err(at(
                    &["security", "rlimits", name],
                    format!("soft limit {soft} is above the hard limit {hard}"),
                ));
            }
            Ok(Rlimit {
                resource: name.clone(),
                soft,
                hard,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = SecurityConfig {
        capabilities: CapabilityConfig {
            add: s.capabilities.add.clone(),
            drop: s.capabilities.drop.clone(),
        },
        no_new_privileges: s.no_new_privileges.unwrap_or(false),
        seccomp,
        rlimits,
        apparmor_profile: s.apparmor.clone(),
        selinux_label: s.selinux_label.clone(),
        user: user(f.user.as_deref()).map_err(|m| at(&["user"], m))?,
    };

    let warnings = box_security::check(&config).map_err(|e| pin(c, e))?;
    for warning in warnings {
        eprintln!("box: warning: {warning}");
    }
    Ok(config)
}
