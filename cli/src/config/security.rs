//! `[security]` and `user` → `SecurityConfig`, checked against this host. box.toml gives
//! capabilities Docker's way (`add`/`drop` on Docker's 14); `Capabilities::docker` turns that
//! into the five sets the spec holds.

use box_security::{
    CapAddDrop, CapSet, Capabilities, Error as SecurityError, Host, Resource, Rlimit,
    SeccompConfig, SecurityConfig, UserSpec,
};

use super::locate::suggest;
use super::process::user as parse_user;
use super::rootfs::absolute;
use super::schema;
use super::to_spec::{key, Ctx};
use super::{ConfigError, Seg};

/// `[security]` and `user` → `SecurityConfig`, checked against this host by
/// `box_security::check` (everything `prepare` checks, without building the seccomp filter,
/// which the launcher builds once). Its errors are pinned to the key they come from; its
/// warnings are printed here, so `box validate` and `box up` both show them.
/// `user`: the identity an image resolved (from its `/etc/passwd`), else the file's numeric one.
/// Returns the host's facts it was checked against too: the start takes them.
pub fn security(
    c: &Ctx<'_>,
    user: Option<UserSpec>,
) -> Result<(SecurityConfig, Host), ConfigError> {
    /// Pins an error of the security crate to the box.toml key it comes from.
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
            SecurityError::InvalidRlimit { index, message, .. } => {
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
            SeccompConfig::Path(file)
        }
    };
    let limits = limits(c)?;
    let user = match user {
        Some(user) => user,
        None => parse_user(f.user.as_deref()).map_err(|m| at(&["user"], m))?,
    };
    let host = Host::probe().map_err(|e| pin(c, e))?;
    let changes = CapAddDrop {
        add: s.capabilities.add.clone(),
        drop: s.capabilities.drop.clone(),
    };
    let docker =
        Capabilities::docker(&changes, user.uid == 0, host.bounding()).map_err(|e| pin(c, e))?;
    let config = SecurityConfig {
        capabilities: docker.capabilities,
        no_new_privileges: s.no_new_privileges.unwrap_or(false),
        seccomp,
        rlimits: rlimits(c, limits)?,
        apparmor_profile: s.apparmor.clone(),
        selinux_label: s.selinux_label.clone(),
        user,
    };

    let checked = box_security::check_on(&config, &host).map_err(|e| pin(c, e))?;
    for warning in docker.warnings.iter().chain(&checked) {
        eprintln!("box: warning: {warning}");
    }
    Ok((config, host))
}

/// `[security] rlimits` as (key, soft, hard), soft within hard.
fn limits<'a>(c: &Ctx<'a>) -> Result<Vec<(&'a String, u64, u64)>, ConfigError> {
    c.file
        .security
        .rlimits
        .iter()
        .map(|(name, value)| {
            let (soft, hard) = match value {
                schema::Rlimit::Both(n) => (*n, *n),
                schema::Rlimit::SoftHard([soft, hard]) => (*soft, *hard),
            };
            if soft > hard {
                return Err(c.err(
                    &["security", "rlimits", name],
                    format!("soft limit {soft} is above the hard limit {hard}"),
                ));
            }
            Ok((name, soft, hard))
        })
        .collect()
}

/// Each key of `[security] rlimits` as a resource, `nofile` as `docker run --ulimit` names it
/// or `RLIMIT_NOFILE` (any case), each resource once.
fn rlimits(c: &Ctx<'_>, limits: Vec<(&String, u64, u64)>) -> Result<Vec<Rlimit>, ConfigError> {
    let mut out: Vec<Rlimit> = Vec::with_capacity(limits.len());
    for (name, soft, hard) in &limits {
        let at = |message: String| c.err(&["security", "rlimits", name], message);
        let Some(resource) = Resource::parse(name) else {
            let known: Vec<&str> = Resource::ALL.iter().map(|r| r.name()).collect();
            let hint = suggest(&name.to_ascii_lowercase(), known.iter().copied()).map_or_else(
                || format!("; known: {}", known.join(", ")),
                |good| format!(" (did you mean \"{good}\"?)"),
            );
            return Err(at(format!("unknown resource {name:?}{hint}")));
        };
        // `nofile` and `RLIMIT_NOFILE` are two TOML keys but one resource.
        if let Some(j) = out.iter().position(|l| l.resource == resource) {
            return Err(at(format!(
                "names the same resource ({resource}) as {:?}",
                limits[j].0
            )));
        }
        out.push(Rlimit {
            resource,
            soft: *soft,
            hard: *hard,
        });
    }
    Ok(out)
}
