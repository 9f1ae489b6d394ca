//! `prepare`: everything that can be decided before the container exists — names resolved,
//! host checked, filter compiled — so the child only makes kernel calls.

use std::path::Path;

use crate::capabilities::{parse_capability, parse_list, resolve_capabilities, CapSet, Capability};
use crate::config::{SeccompConfig, SecurityConfig, UserSpec};
use crate::error::{caps_error, Error, Result, Step};
use crate::lsm::{self, LsmPlan};
use crate::rlimit::{self, RlimitPlan};
use crate::seccomp::{Arch, Compiled, KernelVersion, Profile};

/// The outcome of [`prepare`]: what the child applies. Cheap to clone, holds no fds.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) user: UserSpec,
    pub(crate) rlimits: Vec<RlimitPlan>,
    pub(crate) lsm: Vec<LsmPlan>,
    /// The container's bounding set (and root's permitted/effective set after execve).
    pub(crate) capabilities: CapSet,
    /// Capability numbers to drop from the bounding set (every known one not kept).
    pub(crate) drop_bounding: Vec<u8>,
    pub(crate) inheritable: CapSet,
    pub(crate) ambient: CapSet,
    /// CAP_SYS_ADMIN is held in permitted/effective (never bounding) until execve, because
    /// the filter is installed last and, without no_new_privs, installing needs it.
    pub(crate) hold_sys_admin: bool,
    pub(crate) no_new_privs: bool,
    pub(crate) seccomp: Option<Compiled>,
    pub(crate) warnings: Vec<String>,
}

impl Prepared {
    /// The capability set the container gets: its bounding set, and its permitted/effective
    /// sets after execve when it runs as root.
    pub fn capabilities(&self) -> CapSet {
        self.capabilities
    }

    /// Capabilities a non-root user keeps across execve (inheritable + ambient).
    pub fn ambient(&self) -> CapSet {
        self.ambient
    }

    /// Whether `PR_SET_NO_NEW_PRIVS` will be set.
    pub fn no_new_privileges(&self) -> bool {
        self.no_new_privs
    }

    /// The compiled seccomp filter; `None` when unconfined.
    pub fn seccomp(&self) -> Option<&Compiled> {
        self.seccomp.as_ref()
    }

    /// The identity the process will run as.
    pub fn user(&self) -> &UserSpec {
        &self.user
    }

    /// Non-fatal notes for the user: things done differently from what was asked, and why.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Facts about the host (the parent process) that `prepare` checks against.
struct Host {
    last_cap: u8,
    bounding: CapSet,
    effective: CapSet,
    kernel: KernelVersion,
}

impl Host {
    fn probe() -> Result<Host> {
        let path = Path::new("/proc/sys/kernel/cap_last_cap");
        let text = std::fs::read_to_string(path).map_err(|source| Error::HostRead {
            path: path.to_path_buf(),
            source,
        })?;
        let last_cap: u8 = text.trim().parse().map_err(|_| Error::HostRead {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unparsable {text:?}"),
            ),
        })?;
        let last_cap = last_cap.min(63);
        let mut bounding = CapSet::EMPTY;
        for cap in caps::all() {
            if caps::has_cap(None, caps::CapSet::Bounding, cap)
                .map_err(caps_error(Step::HostProbe))?
            {
                bounding.insert(cap);
            }
        }
        let effective = caps::read(None, caps::CapSet::Effective)
            .map_err(caps_error(Step::HostProbe))?
            .into_iter()
            .collect();
        Ok(Host {
            last_cap,
            bounding,
            effective,
            kernel: KernelVersion::running()?,
        })
    }
}

/// Resolves, checks and compiles `cfg` in the parent, before anything is created. Every user
/// error (unknown names, malformed profiles, unavailable capabilities, LSMs or rlimits) comes
/// out of here.
pub fn prepare(cfg: &SecurityConfig) -> Result<Prepared> {
    build(cfg, true)
}

/// Checks `cfg` against this host exactly as [`prepare`] does — the same errors — but does not
/// build the seccomp filter (the most expensive step). For front ends that validate a
/// configuration before, or without, starting a container. Returns [`Prepared::warnings`].
pub fn check(cfg: &SecurityConfig) -> Result<Vec<String>> {
    build(cfg, false).map(|p| p.warnings)
}

/// [`prepare`]; with `emit_filter` false the filter is planned (and every profile error
/// found) but not built, and `seccomp` stays `None`.
fn build(cfg: &SecurityConfig, emit_filter: bool) -> Result<Prepared> {
    check_ids(&cfg.user)?;
    let host = Host::probe()?;
    let mut warnings = Vec::new();

    let requested = resolve_capabilities(&cfg.capabilities)?;
    let adds = parse_list("add", &cfg.capabilities.add)?;
    let missing = requested.difference(host.bounding);
    if let Some(cap) = missing.intersect(adds.named).iter().next() {
        let index = cfg
            .capabilities
            .add
            .iter()
            .position(|name| parse_capability(name) == Some(cap))
            .unwrap_or(0);
        return Err(Error::CapabilityUnavailable {
            index,
            name: cap.to_string(),
        });
    }
    if !missing.is_empty() {
        warnings.push(format!(
            "capabilities not in this host's bounding set are left out: {}",
            names(missing)
        ));
    }
    let capabilities = requested.intersect(host.bounding);
    // Docker gives a non-root user nothing across execve; box keeps what was explicitly added.
    let added = if adds.all { CapSet::all() } else { adds.named };
    let ambient = if cfg.user.uid == 0 {
        CapSet::EMPTY
    } else {
        capabilities.intersect(added)
    };
    let drop_bounding = (0..=host.last_cap)
        .filter(|&cap| capabilities.bits() & (1 << cap) == 0)
        .collect();

    let filter = |profile: &Profile| filter(profile, capabilities, host.kernel, emit_filter);
    let (seccomp, filter_warnings) = match &cfg.seccomp {
        SeccompConfig::Unconfined => (None, Vec::new()),
        SeccompConfig::Default => filter(&Profile::docker_default())?,
        SeccompConfig::Profile(path) => filter(&Profile::load(path)?)?,
    };
    warnings.extend(filter_warnings);
    let hold_sys_admin = cfg.seccomp != SeccompConfig::Unconfined
        && !cfg.no_new_privileges
        && !capabilities.contains(Capability::CAP_SYS_ADMIN);
    if hold_sys_admin && !host.bounding.contains(Capability::CAP_SYS_ADMIN) {
        return Err(Error::SeccompNeedsPrivilege);
    }

    let may_raise_hard = host.effective.contains(Capability::CAP_SYS_RESOURCE);
    let rlimits = rlimit::plan(&cfg.rlimits, may_raise_hard)?;
    let lsm = lsm::plan(cfg, Path::new("/"))?;

    Ok(Prepared {
        user: cfg.user.clone(),
        rlimits,
        lsm,
        capabilities,
        drop_bounding,
        inheritable: ambient,
        ambient,
        hold_sys_admin,
        no_new_privs: cfg.no_new_privileges,
        seccomp,
        warnings,
    })
}

/// Plans `profile` for the container, refuses one that forbids `execve`, and builds the
/// filter if `emit` is set. Returns the filter and the profile's warnings.
fn filter(
    profile: &Profile,
    caps: CapSet,
    kernel: KernelVersion,
    emit: bool,
) -> Result<(Option<Compiled>, Vec<String>)> {
    let arch = Arch::native().ok_or_else(|| Error::UnsupportedArch {
        arch: std::env::consts::ARCH.to_string(),
    })?;
    let plan = profile.plan(caps, arch, kernel)?;
    // A profile that refuses execve would fail every container with a bare EPERM; say why.
    let execve = plan.action_for("execve", [0; 6]);
    if !execve.is_some_and(|a| a.lets_through()) {
        return Err(Error::Profile {
            origin: profile.origin.clone(),
            location: "syscalls".to_string(),
            message: format!(
                "execve is not allowed (the filter answers {}), so no container could start",
                execve.map_or_else(|| "nothing".to_string(), |a| format!("{a:?}"))
            ),
        });
    }
    if !emit {
        return Ok((None, plan.warnings));
    }
    let compiled = profile.emit(plan)?;
    let warnings = compiled.warnings().to_vec();
    Ok((Some(compiled), warnings))
}

/// Refuses (uid_t)-1 anywhere in the identity: `setresuid(-1, -1, -1)` changes nothing, so
/// the container would run as whoever started it.
fn check_ids(user: &UserSpec) -> Result<()> {
    const UNCHANGED: u32 = u32::MAX;
    let ids = [("uid", user.uid), ("gid", user.gid)].into_iter().chain(
        user.additional_gids
            .iter()
            .map(|g| ("supplementary gid", *g)),
    );
    for (what, id) in ids {
        if id == UNCHANGED {
            return Err(Error::InvalidId { what, id });
        }
    }
    Ok(())
}

fn names(set: CapSet) -> String {
    set.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_ids_are_refused_before_anything_else() {
        let with = |user: UserSpec| SecurityConfig {
            user,
            ..SecurityConfig::default()
        };
        for (user, what) in [
            (
                UserSpec {
                    uid: u32::MAX,
                    ..UserSpec::default()
                },
                "uid",
            ),
            (
                UserSpec {
                    gid: u32::MAX,
                    ..UserSpec::default()
                },
                "gid",
            ),
            (
                UserSpec {
                    additional_gids: vec![5, u32::MAX],
                    ..UserSpec::default()
                },
                "supplementary gid",
            ),
        ] {
            match check(&with(user)) {
                Err(Error::InvalidId { what: got, id }) => assert_eq!((got, id), (what, u32::MAX)),
                other => panic!("{what}: {other:?}"),
            }
        }
    }
}
