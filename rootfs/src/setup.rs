//! The child-side sequence (bubblewrap's technique): a private staging root
//! on a tmpfs over `/tmp`, the host reachable at `/oldroot`, the container's
//! root assembled at `/newroot`, then a final pivot that drops both.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::{fstat, Mode, SFlag};
use nix::sys::statfs::{statfs, PROC_SUPER_MAGIC};

use crate::resolve::{resolve, Create};
use crate::sys::{self, fd_path, HOST_PROC};
use crate::{dev, finish, host, pinned, protect, validate};
use crate::{Error, MountKind, Propagation, Root, RootfsConfig};

/// Builds the container's root filesystem and moves into it.
///
/// **Must run in a process that already has its own mount namespace**
/// (`CLONE_NEWNS`): called in the host's mount namespace it would mount over
/// the host's `/tmp` and pivot the host's root. Normally the process is also
/// PID 1 of a new pid namespace, so `/proc` shows only the container.
///
/// Within that namespace the host's mounts and files are never modified
/// (only missing mount points inside a `Root::Dir` tree are created). On
/// success the process's root is the new root, its cwd is `/`, the host's
/// tree is detached and no fd opened here is left behind. On error the
/// namespace is half-built and the process should exit.
///
/// Steps: propagation of `/` → staging tmpfs on `/tmp` + `pivot_root` →
/// the root (`Root::Dir` bind or `Root::Host` tmpfs) → `/proc`, `/sys`,
/// `/dev` (each on a real directory of the root, held by fd) → user mounts →
/// masked paths → read-only paths (both through those fds) → read-only `/`
/// → `pivot_root` into the new root and detach the old one → check that
/// `/proc`, `/sys` and `/dev` still lead to box's mounts.
pub fn setup(cfg: &RootfsConfig) -> Result<(), Error> {
    validate::validate_paths(cfg)?;
    // Exact modes for the directories and nodes created below; restored on return.
    let _umask = UmaskGuard(nix::sys::stat::umask(Mode::empty()));
    let prop = match cfg.propagation {
        Propagation::Private => MsFlags::MS_PRIVATE,
        Propagation::Slave => MsFlags::MS_SLAVE,
    };
    sys::mount(
        "set propagation",
        None,
        Path::new("/"),
        Path::new("/"),
        None,
        MsFlags::MS_REC | prop,
        None,
    )?;

    // Host paths are opened while the host's root is still our root, so
    // their symlinks resolve as the user meant (and /tmp is not yet covered).
    let root_dir = match &cfg.root {
        Root::Dir(dir) => {
            let fd = open_host("open root directory", dir, OFlag::O_DIRECTORY)?;
            validate::refuse_host_root(dir, fd.as_fd())?;
            Some(fd)
        }
        Root::Host => None,
    };
    let sources = cfg
        .mounts
        .iter()
        .map(|m| match &m.kind {
            MountKind::Bind { source, .. } => {
                open_host("open bind source", source, OFlag::empty()).map(Some)
            }
            MountKind::Tmpfs { .. } => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;

    stage()?;
    let newroot = Path::new("/newroot");
    match root_dir {
        Some(dir) => {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            sys::mount(
                "bind root directory",
                Some(&fd_path(dir.as_fd())),
                newroot,
                Path::new("/"),
                None,
                flags,
                None,
            )?;
        }
        None => host::build(newroot)?,
    }
    let root = sys::open_path("open new root", newroot)?;
    let proc = pinned::proc(root.as_fd())?;
    let sys = pinned::sysfs(root.as_fd())?;
    let dev = pinned::dev(root.as_fd())?;
    dev::build(dev.fd(), cfg.console, &cfg.devices)?;
    for (m, src) in cfg.mounts.iter().zip(&sources) {
        user_mount(root.as_fd(), &m.target, &m.kind, src.as_ref())?;
    }
    let pinned = [&proc, &sys, &dev];
    protect::apply(
        root.as_fd(),
        &pinned,
        &cfg.masked_paths,
        &cfg.readonly_paths,
    )?;
    if cfg.readonly {
        finish::readonly_root(root.as_fd())?;
    }
    // Nothing may keep the old root's mounts alive once it is detached.
    drop(sources);
    drop(root);
    finish::pivot(newroot)?;
    let root = sys::open_path("open new root", Path::new("/"))?;
    for pin in pinned {
        // A user mount there replaced it on purpose.
        let replaced = cfg
            .mounts
            .iter()
            .any(|m| m.target == Path::new(pin.spot.path));
        if !replaced {
            pin.verify(root.as_fd())?;
        }
    }
    Ok(())
}

/// Restores the caller's umask.
struct UmaskGuard(Mode);

impl Drop for UmaskGuard {
    fn drop(&mut self) {
        nix::sys::stat::umask(self.0);
    }
}

fn open_host(step: &'static str, path: &Path, extra: OFlag) -> Result<OwnedFd, Error> {
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC | extra;
    nix::fcntl::open(path, flags, Mode::empty()).map_err(|errno| Error::HostPath {
        step,
        path: path.into(),
        errno,
    })
}

/// tmpfs on `/tmp` (only in our mount namespace), then make it `/` with the
/// host's root at `/oldroot`. Nothing is created on the host.
fn stage() -> Result<(), Error> {
    let tmp = Path::new("/tmp");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    sys::mount_fs(
        "mount staging tmpfs",
        "tmpfs",
        tmp,
        tmp,
        flags,
        Some("mode=755,size=64k"),
    )?;
    for dir in ["/tmp/newroot", "/tmp/oldroot"] {
        nix::unistd::mkdir(dir, Mode::from_bits_truncate(0o755)).map_err(|errno| Error::Fs {
            step: "mkdir",
            path: dir.into(),
            errno,
        })?;
    }
    nix::unistd::pivot_root("/tmp", "/tmp/oldroot").map_err(|errno| Error::PivotRoot {
        new_root: tmp.into(),
        put_old: "/tmp/oldroot".into(),
        errno,
    })?;
    nix::unistd::chdir("/").map_err(|errno| Error::Fs {
        step: "chdir",
        path: "/".into(),
        errno,
    })?;
    // Every mount below goes through /oldroot/proc/self/fd/N.
    match statfs(HOST_PROC) {
        Ok(st) if st.filesystem_type() == PROC_SUPER_MAGIC => Ok(()),
        Ok(_) => Err(Error::Invalid {
            path: "/proc".into(),
            reason: "the host's /proc is not a procfs",
        }),
        Err(errno) => Err(Error::HostPath {
            step: "statfs",
            path: "/proc".into(),
            errno,
        }),
    }
}

/// One user mount; its target is resolved inside the new root.
fn user_mount(
    root: BorrowedFd<'_>,
    target: &Path,
    kind: &MountKind,
    src: Option<&OwnedFd>,
) -> Result<(), Error> {
    match (kind, src) {
        (MountKind::Bind { source, readonly }, Some(src)) => {
            let st = fstat(src).map_err(|errno| Error::HostPath {
                step: "stat bind source",
                path: source.clone(),
                errno,
            })?;
            let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
            let t = resolve(
                root,
                target,
                if is_dir { Create::Dir } else { Create::File },
            )?;
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            nix::mount::mount(
                Some(&fd_path(src.as_fd())),
                &fd_path(t.fd.as_fd()),
                None::<&str>,
                flags,
                None::<&str>,
            )
            .map_err(|errno| Error::Mount {
                step: "bind mount",
                src: Some(source.clone()),
                target: t.shown.clone(),
                errno,
            })?;
            if *readonly {
                sys::make_readonly(t.reopen()?.as_fd(), &t.shown, true, HOST_PROC)?;
            }
            Ok(())
        }
        (MountKind::Tmpfs { size, mode }, _) => {
            let t = resolve(root, target, Create::Dir)?;
            let opts = crate::config::tmpfs_options(*size, *mode);
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            sys::mount_fs(
                "mount tmpfs",
                "tmpfs",
                &fd_path(t.fd.as_fd()),
                &t.shown,
                flags,
                Some(&opts),
            )
        }
        (MountKind::Bind { source, .. }, None) => Err(Error::Invalid {
            path: source.clone(),
            reason: "bind source was not opened",
        }),
    }
}
