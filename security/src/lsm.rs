//! AppArmor / SELinux exec labels: detected and validated in the parent, written to
//! `/proc/thread-self/attr/...` in the child so they take effect at `execve`.

use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};
use nix::unistd::write;

use crate::config::SecurityConfig;
use crate::error::{Error, Result, Step};

/// A Linux security module box can label processes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lsm {
    /// AppArmor: profiles, applied with `exec <profile>`.
    AppArmor,
    /// SELinux: contexts `user:role:type[:level]`.
    SeLinux,
}

impl Lsm {
    fn name(self) -> &'static str {
        match self {
            Lsm::AppArmor => "AppArmor",
            Lsm::SeLinux => "SELinux",
        }
    }
}

/// Which LSMs the host runs, read below `root` (normally `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LsmSupport {
    /// AppArmor is enabled (`/sys/module/apparmor/parameters/enabled` is `Y`).
    pub apparmor: bool,
    /// SELinux is enabled (selinuxfs is mounted: `/sys/fs/selinux/enforce` exists).
    pub selinux: bool,
}

/// Detects the LSMs of the host whose `/sys` is at `root/sys`.
pub fn detect(root: &Path) -> LsmSupport {
    let apparmor = std::fs::read_to_string(root.join("sys/module/apparmor/parameters/enabled"))
        .map(|s| s.trim_start().starts_with('Y'))
        .unwrap_or(false);
    let selinux = root.join("sys/fs/selinux/enforce").exists();
    LsmSupport { apparmor, selinux }
}

/// A label to write in the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LsmPlan {
    pub(crate) lsm: Lsm,
    pub(crate) label: String,
}

/// Validates the requested labels against the host at `root`.
pub(crate) fn plan(cfg: &SecurityConfig, root: &Path) -> Result<Vec<LsmPlan>> {
    let support = detect(root);
    let mut plans = Vec::new();
    if let Some(profile) = &cfg.apparmor_profile {
        // Docker's "unconfined" means "do not apply a profile", which needs no AppArmor.
        if profile != "unconfined" {
            check_label(Lsm::AppArmor, profile)?;
            if !support.apparmor {
                return Err(unavailable(Lsm::AppArmor, profile));
            }
            check_apparmor_loaded(root, profile)?;
            plans.push(LsmPlan {
                lsm: Lsm::AppArmor,
                label: profile.clone(),
            });
        }
    }
    if let Some(label) = &cfg.selinux_label {
        check_label(Lsm::SeLinux, label)?;
        if label.split(':').count() < 3 {
            return Err(bad_label(
                Lsm::SeLinux,
                label,
                "expected user:role:type[:level]",
            ));
        }
        if !support.selinux {
            return Err(unavailable(Lsm::SeLinux, label));
        }
        plans.push(LsmPlan {
            lsm: Lsm::SeLinux,
            label: label.clone(),
        });
    }
    Ok(plans)
}

fn unavailable(lsm: Lsm, label: &str) -> Error {
    Error::LsmUnavailable {
        lsm: lsm.name(),
        label: label.to_string(),
    }
}

fn bad_label(lsm: Lsm, label: &str, message: &str) -> Error {
    Error::LsmLabel {
        lsm: lsm.name(),
        label: label.to_string(),
        message: message.to_string(),
    }
}

fn check_label(lsm: Lsm, label: &str) -> Result<()> {
    if label.is_empty() {
        return Err(bad_label(lsm, label, "is empty"));
    }
    if label.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad_label(
            lsm,
            label,
            "contains whitespace or control characters",
        ));
    }
    Ok(())
}

/// Checks the profile list AppArmor publishes, when it can be read (securityfs may be absent).
fn check_apparmor_loaded(root: &Path, profile: &str) -> Result<()> {
    let path = root.join("sys/kernel/security/apparmor/profiles");
    let Ok(list) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    // Lines look like "docker-default (enforce)".
    let loaded = list
        .lines()
        .any(|line| line.rsplit_once(" (").map(|(name, _)| name) == Some(profile));
    if loaded {
        Ok(())
    } else {
        Err(bad_label(
            Lsm::AppArmor,
            profile,
            &format!("no such profile is loaded (see {})", path.display()),
        ))
    }
}

/// Writes the exec labels of the calling thread.
pub(crate) fn apply(plans: &[LsmPlan]) -> Result<()> {
    for plan in plans {
        let (path, value) = match plan.lsm {
            Lsm::AppArmor => {
                // Kernels with LSM stacking have a per-LSM directory; older ones only attr/exec.
                let stacked = PathBuf::from("/proc/thread-self/attr/apparmor/exec");
                let path = if stacked.exists() {
                    stacked
                } else {
                    PathBuf::from("/proc/thread-self/attr/exec")
                };
                (path, format!("exec {}", plan.label))
            }
            Lsm::SeLinux => (
                PathBuf::from("/proc/thread-self/attr/exec"),
                plan.label.clone(),
            ),
        };
        write_proc_attr(&path, value.as_bytes())?;
    }
    Ok(())
}

fn write_proc_attr(path: &Path, value: &[u8]) -> Result<()> {
    let err = |errno| Error::SysPath {
        step: Step::LsmExecLabel,
        path: path.to_path_buf(),
        errno,
    };
    let fd = open(
        path,
        OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
    .map_err(err)?;
    // The container's /proc is mounted by now; make sure it really is procfs and not something
    // the image put there (the class of runc CVE-2019-16884).
    let fs = fstatfs(&fd).map_err(err)?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC {
        return Err(err(nix::errno::Errno::EXDEV));
    }
    let written = write(&fd, value).map_err(err)?;
    if written != value.len() {
        return Err(err(nix::errno::Errno::EIO));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(apparmor: Option<&str>, selinux: Option<&str>) -> SecurityConfig {
        SecurityConfig {
            apparmor_profile: apparmor.map(str::to_string),
            selinux_label: selinux.map(str::to_string),
            ..SecurityConfig::default()
        }
    }

    fn fake_host(apparmor: bool, selinux: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        if apparmor {
            let params = dir.path().join("sys/module/apparmor/parameters");
            std::fs::create_dir_all(&params).unwrap();
            std::fs::write(params.join("enabled"), "Y\n").unwrap();
            let sec = dir.path().join("sys/kernel/security/apparmor");
            std::fs::create_dir_all(&sec).unwrap();
            std::fs::write(
                sec.join("profiles"),
                "docker-default (enforce)\nbox (complain)\n",
            )
            .unwrap();
        }
        if selinux {
            let fs = dir.path().join("sys/fs/selinux");
            std::fs::create_dir_all(&fs).unwrap();
            std::fs::write(fs.join("enforce"), "1").unwrap();
        }
        dir
    }

    #[test]
    fn asking_for_an_absent_lsm_is_an_error() {
        let host = fake_host(false, false);
        let err = plan(&cfg(Some("docker-default"), None), host.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"AppArmor label "docker-default" was requested, but this host does not run AppArmor"#
        );
        let err = plan(
            &cfg(None, Some("system_u:system_r:container_t:s0")),
            host.path(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("this host does not run SELinux"),
            "{err}"
        );
        // "unconfined" asks for nothing.
        assert!(plan(&cfg(Some("unconfined"), None), host.path())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn present_lsms_are_planned_and_checked() {
        let host = fake_host(true, true);
        let plans = plan(&cfg(Some("docker-default"), Some("u:r:t:s0")), host.path()).unwrap();
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0].lsm, Lsm::AppArmor);
        let err = plan(&cfg(Some("nope"), None), host.path()).unwrap_err();
        assert!(
            err.to_string().contains("no such profile is loaded"),
            "{err}"
        );
        let err = plan(&cfg(None, Some("justatype")), host.path()).unwrap_err();
        assert!(err.to_string().contains("user:role:type"), "{err}");
        let err = plan(&cfg(Some("a b"), None), host.path()).unwrap_err();
        assert!(err.to_string().contains("whitespace"), "{err}");
    }
}
