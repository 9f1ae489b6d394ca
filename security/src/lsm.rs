//! AppArmor / SELinux exec labels: detected and validated in the parent, written to
//! `/proc/thread-self/attr/...` in the child so they take effect at `execve`.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, openat, openat2, OFlag, OpenHow, ResolveFlag};
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
    if plans.is_empty() {
        return Ok(());
    }
    let proc = open_proc()?;
    for plan in plans {
        let (fd, path, value) = match plan.lsm {
            Lsm::AppArmor => {
                // Kernels with LSM stacking have a per-LSM directory; older ones only attr/exec.
                let value = format!("exec {}", plan.label);
                match open_attr(&proc, "apparmor/exec") {
                    Err(Error::SysPath {
                        errno: Errno::ENOENT,
                        ..
                    }) => (open_attr(&proc, "exec")?, "exec", value),
                    other => (other?, "apparmor/exec", value),
                }
            }
            Lsm::SeLinux => (open_attr(&proc, "exec")?, "exec", plan.label.clone()),
        };
        let err = |errno| attr_error(path, errno);
        let written = write(&fd, value.as_bytes()).map_err(err)?;
        if written != value.len() {
            return Err(err(Errno::EIO));
        }
    }
    Ok(())
}

fn attr_error(attr: &str, errno: Errno) -> Error {
    Error::SysPath {
        step: Step::LsmExecLabel,
        path: Path::new("/proc/thread-self/attr").join(attr),
        errno,
    }
}

/// The root of the procfs at `/proc`: in the child the container's `/proc` is mounted by now;
/// make sure it is a procfs and not something the image put there (the class of runc
/// CVE-2019-16884).
fn open_proc() -> Result<OwnedFd> {
    let err = |errno| Error::SysPath {
        step: Step::LsmExecLabel,
        path: PathBuf::from("/proc"),
        errno,
    };
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = open("/proc", flags, Mode::empty()).map_err(err)?;
    check_procfs(&fd).map_err(err)?;
    Ok(fd)
}

/// `thread-self/attr/<attr>` under `proc`, opened for writing without crossing a mount (a file
/// bind-mounted over it would redirect the write, runc CVE-2025-52881) or following a magic link,
/// and checked to be procfs.
fn open_attr(proc: &OwnedFd, attr: &str) -> Result<OwnedFd> {
    let err = |errno| attr_error(attr, errno);
    let path = format!("thread-self/attr/{attr}");
    let flags = OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let how = OpenHow::new()
        .flags(flags)
        .resolve(ResolveFlag::RESOLVE_NO_XDEV | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = match openat2(proc, path.as_str(), how) {
        // Before Linux 5.6: the last component at least is not followed.
        Err(Errno::ENOSYS) => openat(proc, path.as_str(), flags, Mode::empty()),
        other => other,
    }
    .map_err(err)?;
    check_procfs(&fd).map_err(err)?;
    Ok(fd)
}

fn check_procfs(fd: &OwnedFd) -> nix::Result<()> {
    if fstatfs(fd)?.filesystem_type() == PROC_SUPER_MAGIC {
        Ok(())
    } else {
        Err(Errno::EXDEV)
    }
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
    fn attr_files_are_opened_only_on_procfs() {
        let proc = open_proc().unwrap();
        open_attr(&proc, "exec").unwrap();
        let missing = open_attr(&proc, "no-such-attr").unwrap_err();
        assert!(
            matches!(
                missing,
                Error::SysPath {
                    errno: Errno::ENOENT,
                    ..
                }
            ),
            "{missing}"
        );
        // A tree that looks like /proc but is not procfs takes no label.
        let fake = tempfile::tempdir().unwrap();
        let attr = fake.path().join("thread-self/attr");
        std::fs::create_dir_all(&attr).unwrap();
        std::fs::write(attr.join("exec"), "").unwrap();
        let fake_fd = open(fake.path(), OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).unwrap();
        let err = open_attr(&fake_fd, "exec").unwrap_err();
        assert!(
            matches!(
                err,
                Error::SysPath {
                    errno: Errno::EXDEV,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            attr_error("exec", Errno::EXDEV).to_string()
        );
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
