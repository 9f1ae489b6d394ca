//! `prepare`: everything that can be decided before the container exists — names resolved,
//! host checked, filter compiled — so the child only makes kernel calls.

use std::path::Path;

use crate::capabilities::{CapSet, Capabilities, Capability};
use crate::config::{SeccompConfig, SecurityConfig, UserSpec};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::lsm::{self, LsmPlan};
use crate::rlimit::{self, Rlimit};
use crate::seccomp::{self, Arch, Compiled, KernelVersion, Profile};

/// The outcome of [`prepare`]: what the child applies. Cheap to clone, holds no fds.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) user: UserSpec,
    pub(crate) rlimits: Vec<Rlimit>,
    pub(crate) lsm: Vec<LsmPlan>,
    pub(crate) capabilities: Capabilities,
    /// Capability numbers to drop from the bounding set (every one up to the kernel's last
    /// that `capabilities.bounding` lacks).
    pub(crate) drop_bounding: Vec<u8>,
    /// CAP_SYS_ADMIN is held in permitted/effective (never bounding) until execve, because
    /// the filter is installed last and, without no_new_privs, installing needs it.
    pub(crate) hold_sys_admin: bool,
    pub(crate) no_new_privs: bool,
    pub(crate) seccomp: Option<Compiled>,
    pub(crate) warnings: Vec<String>,
}

impl Prepared {
    /// The five capability sets set before `execve`.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
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

/// Checks `cfg` against this host and compiles its filter, in the parent, before anything is
/// created. Every error of the configuration (capability sets the host or the kernel would
/// refuse, malformed profiles, unavailable LSMs or rlimits) comes out of here.
pub fn prepare(cfg: &SecurityConfig) -> Result<Prepared> {
    prepare_on(cfg, &Host::probe()?)
}

/// [`prepare`] against facts the caller probed already ([`Host::probe`]).
pub fn prepare_on(cfg: &SecurityConfig, host: &Host) -> Result<Prepared> {
    build(cfg, host, true)
}

/// Checks `cfg` against this host exactly as [`prepare`] does — the same errors — but does not
/// build the seccomp filter (the most expensive step). For front ends that validate a
/// configuration before, or without, starting a container. Returns [`Prepared::warnings`].
pub fn check(cfg: &SecurityConfig) -> Result<Vec<String>> {
    check_on(cfg, &Host::probe()?)
}

/// [`check`] against facts the caller probed already ([`Host::probe`]).
pub fn check_on(cfg: &SecurityConfig, host: &Host) -> Result<Vec<String>> {
    build(cfg, host, false).map(|p| p.warnings)
}

/// [`prepare`]; with `emit_filter` false the filter is planned (and every profile error
/// found) but not built, and `seccomp` stays `None`.
fn build(cfg: &SecurityConfig, host: &Host, emit_filter: bool) -> Result<Prepared> {
    cfg.user.check()?;
    let capabilities = cfg.capabilities;
    capabilities.check(host.bounding)?;
    let drop_bounding = (0..=host.last_cap)
        .filter(|&cap| capabilities.bounding.bits() & (1 << cap) == 0)
        .collect();

    // Profiles are evaluated against the bounding set: what the container can ever have.
    let filter =
        |profile: &Profile| filter(profile, capabilities.bounding, host.kernel, emit_filter);
    let (seccomp, warnings) = match &cfg.seccomp {
        SeccompConfig::Unconfined => (None, Vec::new()),
        // The default profile is compiled ahead of time for the usual container.
        SeccompConfig::Default => match Arch::native()
            .and_then(|arch| seccomp::ready_default(capabilities.bounding, arch, host.kernel))
        {
            Some(ready) => (emit_filter.then_some(ready), Vec::new()),
            None => filter(&Profile::docker_default())?,
        },
        SeccompConfig::Path(path) => filter(&Profile::load(path)?)?,
        SeccompConfig::Inline(profile) => filter(profile)?,
    };
    let hold_sys_admin = !matches!(cfg.seccomp, SeccompConfig::Unconfined)
        && !cfg.no_new_privileges
        && !capabilities.effective.contains(Capability::CAP_SYS_ADMIN);
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
