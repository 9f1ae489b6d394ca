//! The OCI runtimes box is measured against: finding or installing them, running one
//! container in a bundle, and removing every trace of it (state, cgroups).

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::spawn::{self, which};

/// An OCI runtime: `NAME run --bundle DIR ID`, `NAME delete -f ID`.
pub struct Oci {
    pub name: &'static str,
    pub bin: PathBuf,
    pub version: String,
    /// Where it keeps container state (checked for leftovers).
    pub state_root: PathBuf,
    /// A mount namespace to run it in (crun on a hybrid cgroup host), held open by this fd.
    pub mntns: Option<OwnedFd>,
}

/// (name, Debian package or "" when Debian has none, state directory).
const RUNTIMES: &[(&str, &str, &str)] = &[
    ("crun", "crun", "/run/crun"),
    ("runc", "runc", "/run/runc"),
    ("youki", "", "/run/youki"),
];

/// Finds the runtimes, installing crun and runc from Debian when missing. Returns the ones
/// found and a line for each that is not.
pub fn find(install: &dyn Fn(&[&str]) -> Result<()>) -> (Vec<Oci>, Vec<String>) {
    let missing: Vec<&str> = RUNTIMES
        .iter()
        .filter(|(name, pkg, _)| !pkg.is_empty() && which(name).is_none())
        .map(|(_, pkg, _)| *pkg)
        .collect();
    let mut not_run = Vec::new();
    if !missing.is_empty() {
        if let Err(e) = install(&missing) {
            not_run.push(format!(
                "apt-get could not install {}: {e:#}",
                missing.join(" ")
            ));
        }
    }
    let mut found = Vec::new();
    for (name, pkg, state) in RUNTIMES {
        match which(name) {
            Some(bin) => found.push(Oci {
                name,
                version: version(&bin),
                bin,
                state_root: PathBuf::from(state),
                mntns: None,
            }),
            None if pkg.is_empty() => not_run.push(format!(
                "{name}: not installed (Debian has no package for it)"
            )),
            None => not_run.push(format!("{name}: not installed")),
        }
    }
    (found, not_run)
}

fn version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown version".into())
}

impl Oci {
    /// The cgroup parent its containers go under, in every hierarchy.
    pub fn cgroup_parent(&self) -> String {
        format!("bench-{}", self.name)
    }

    pub fn argv(&self, bundle: &Path, id: &str) -> Vec<OsString> {
        vec![
            self.bin.clone().into(),
            "run".into(),
            "--bundle".into(),
            bundle.into(),
            id.into(),
        ]
    }

    pub fn mntns_fd(&self) -> Option<i32> {
        self.mntns.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Removes what a run of container `id` may have left: its state (`delete -f`, only
    /// when the state directory exists) and its cgroup directories.
    pub fn cleanup(&self, id: &str, cgroup_mounts: &[PathBuf]) {
        if self.state_root.join(id).exists() {
            let mut cmd = spawn::command(
                &[
                    self.bin.clone().into(),
                    "delete".into(),
                    "-f".into(),
                    id.into(),
                ],
                self.mntns_fd(),
            );
            let _ = cmd.status();
        }
        for mount in cgroup_mounts {
            let dir = mount.join(self.cgroup_parent()).join(id);
            if dir.exists() {
                let _ = std::fs::remove_dir(&dir);
            }
        }
    }

    /// Removes the (empty) cgroup parents once all runs are done.
    pub fn remove_parents(&self, cgroup_mounts: &[PathBuf]) {
        for mount in cgroup_mounts {
            let _ = std::fs::remove_dir(mount.join(self.cgroup_parent()));
        }
    }
}

/// crun refuses a hybrid host ("cgroups in hybrid mode not supported"). It runs fine in a
/// mount namespace where the cgroup2 mount is gone, so that it sees a plain v1 host: this
/// builds such a namespace once, and returns an fd that keeps it alive. The runs enter it with
/// setns(2) in the spawned child just before exec: no extra process per run.
pub fn v1_only_mount_namespace(unified: &Path) -> Result<OwnedFd> {
    let target = std::ffi::CString::new(unified.as_os_str().as_encoded_bytes())
        .context("cgroup2 mount point")?;
    let mut holder = Command::new("sleep");
    holder.arg("600").stdin(Stdio::null()).stdout(Stdio::null());
    // SAFETY: the hook runs in the forked child and makes only raw syscalls on data prepared
    // before the fork.
    unsafe {
        holder.pre_exec(move || {
            // Private before unmounting: on a shared "/" the unmount would propagate to the host.
            let root = c"/";
            let private = (libc::MS_REC | libc::MS_PRIVATE) as libc::c_ulong;
            if libc::unshare(libc::CLONE_NEWNS) != 0
                || libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    private,
                    std::ptr::null(),
                ) != 0
                || libc::umount2(target.as_ptr(), libc::MNT_DETACH) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // spawn() returns once the child has exec'd, so the namespace is complete.
    let mut child = holder.spawn().context("make a mount namespace for crun")?;
    let ns = File::open(format!("/proc/{}/ns/mnt", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    let ns = ns.context("open the mount namespace made for crun")?;
    let text = box_cgroup::mountinfo::read().context("read the host's mountinfo")?;
    let mounts = box_cgroup::mountinfo::parse(&text).context("parse the host's mountinfo")?;
    let still_there = mounts.iter().any(|m| m.mount_point == unified);
    if !still_there {
        bail!("{} vanished from the host's mounts", unified.display());
    }
    Ok(ns.into())
}
