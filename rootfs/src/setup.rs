//! The child-side sequence (bubblewrap's technique): a private staging root
//! on a tmpfs over `/tmp`, the host reachable at `/oldroot`, the container's
//! root assembled at `/newroot`, then a final pivot that drops both.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::Mode;
use nix::sys::statfs::{statfs, PROC_SUPER_MAGIC};

use crate::before::BeforeEntering;
use crate::pinned::{SPOTS, SYS};
use crate::sys::{self, fd_path, HOST_PROC};
use crate::{attrs, finish, host, mounts, nopivot, overlay, protect, validate, workdir};
use crate::{Error, MountType, Propagation, Root, RootfsConfig};

/// Builds the container's root filesystem and moves into it.
///
/// **Must run in a process that already has its own mount namespace**
/// (`CLONE_NEWNS`): called in the host's mount namespace it would mount over
/// the host's `/tmp` and pivot the host's root. Normally the process is also
/// PID 1 of a new pid namespace, so `/proc` shows only the container.
///
/// Within that namespace the host's mounts and files are never modified
/// (only missing mount points inside a `Root::Dir` tree are created; in an
/// overlay root they go to its upper directory, never to a layer). On
/// success the process's root is the new root, its cwd is `/`, the host's
/// tree is detached and no fd opened here is left behind. On error the
/// namespace is half-built and the process should exit.
///
/// Steps: propagation of `/` → staging tmpfs on `/tmp` + `pivot_root` →
/// the root (`Root::Dir` bind, `Root::Overlay` overlayfs or `Root::Host` tmpfs)
/// → the mounts, in order
/// (those at `/proc`, `/sys`, `/dev` each on a real directory of the root,
/// held by fd; those below them through that fd; the first `/dev` tmpfs
/// filled with device nodes) → masked paths → read-only paths (through
/// those fds) → read-only `/` → `pivot_root` into the new root and detach
/// the old one (with `no_pivot`: detach the host's mounts, move the new root onto `/` and
/// `chroot`, see `nopivot.rs`) → check that `/proc`, `/sys` and `/dev` still lead to the
/// last mount box made at each.
pub fn setup(cfg: &RootfsConfig) -> Result<(), Error> {
    setup_with_workdir(cfg, None)
}

/// [`setup`], and the process's working directory `workdir` made where the root lacks it,
/// after the mounts and before `/` is made read-only (as runc and Docker make a missing
/// WorkingDir while the root is still writable): resolved inside the root without following
/// its links out, missing components 0755 owned by the caller (the container's root, as
/// Docker owns them). Its failure is [`Error::Workdir`].
pub fn setup_with_workdir(cfg: &RootfsConfig, workdir: Option<&Path>) -> Result<(), Error> {
    setup_with(cfg, workdir, None)
}

/// [`setup_with_workdir`], with an overlay root's mount made already: `overlay` (a detached
/// mount, [`Overlay::mount_idmapped`](crate::Overlay::mount_idmapped)) becomes the root of a
/// `Root::Overlay` config instead of one mounted here.
pub fn setup_with(
    cfg: &RootfsConfig,
    workdir: Option<&Path>,
    overlay: Option<OwnedFd>,
) -> Result<(), Error> {
    setup_before(cfg, workdir, overlay, None)
}

/// What a start does around its root's `/sys/fs/cgroup` when that comes last
/// ([`crate::Prepared::apply_cgroupfs_last`]). An `Err`'s text is the start's error.
///
/// mountinfo lists a namespace's mounts in the order they were made: a view that
/// [`BeforeCgroupfs::before`] has made (elsewhere) comes after every other mount of the
/// root, so the container's mount table is the same at every start.
pub trait BeforeCgroupfs {
    /// Runs once every other mount of the root is made, before the view is mounted (a
    /// process enters its cgroups and unshares its cgroup namespace here).
    fn before(&mut self) -> Result<(), String>;

    /// The view of a [`crate::CgroupFs::Hierarchies`], made from the container's own cgroup
    /// directories ([`crate::view_tree`]), attached instead of fresh mounts; `None`: fresh
    /// mounts. Asked for once the root is entered, where the kernel has the new mount API, so
    /// that it may be made while it is.
    fn view(&mut self) -> Result<Option<crate::CgroupView>, String>;
}

/// Whether `cfg`'s `/sys/fs/cgroup` may be mounted after everything else of the root, just
/// before it is entered: nothing else of `cfg` (a mount, a masked or read-only path) is at
/// or under it.
pub(crate) fn cgroupfs_may_come_last(cfg: &RootfsConfig) -> bool {
    let under = |p: &Path| p.starts_with(crate::CGROUPFS);
    cfg.cgroupfs.is_some()
        && !cfg.mounts.iter().any(|m| under(&m.destination))
        && !cfg
            .masked_paths
            .iter()
            .chain(&cfg.readonly_paths)
            .any(|p| under(p))
}

/// [`setup_with`], running `before` after the root is built and before it is entered (see
/// [`crate::HostView`]).
pub fn setup_before(
    cfg: &RootfsConfig,
    workdir: Option<&Path>,
    overlay: Option<OwnedFd>,
    before: Option<BeforeEntering>,
) -> Result<(), Error> {
    build(cfg, workdir, overlay, before, None)
}

/// [`setup_before`], with `/sys/fs/cgroup` mounted last when `cgroupfs_last` is given (after
/// it ran), else in its place after `/sys`.
pub(crate) fn build(
    cfg: &RootfsConfig,
    workdir: Option<&Path>,
    overlay: Option<OwnedFd>,
    before: Option<BeforeEntering>,
    cgroupfs_last: Option<&mut dyn BeforeCgroupfs>,
) -> Result<(), Error> {
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
    // The overlay too: its layer paths are the host's.
    let root_dir = match &cfg.root {
        Root::Dir(dir) => {
            let fd = open_host("open root directory", dir, OFlag::O_DIRECTORY)?;
            validate::refuse_host_root(dir, fd.as_fd())?;
            Some(RootSource::Dir(fd))
        }
        Root::Overlay(o) => Some(RootSource::Overlay(match overlay {
            Some(made) => overlay::Made::Detached(made),
            None => overlay::mount(o)?,
        })),
        Root::Host => None,
    };
    // A filesystem box has no special handling for is made (detached) here too: its options
    // may name host paths (overlay's lowerdir, upperdir, workdir), resolved as the host's.
    let sources = cfg
        .mounts
        .iter()
        .map(|m| match (m.kind, &m.source) {
            (MountType::Bind, Some(source)) => {
                open_host("open bind source", source, OFlag::empty()).map(Some)
            }
            (MountType::Other(_), _) => attrs::detached(m),
            _ => Ok(None),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Without pivot_root the host's mounts stay in the namespace: held now, detached at the end.
    let host_mounts = cfg.no_pivot.then(nopivot::host_mounts).transpose()?;
    stage(cfg.no_pivot)?;
    let newroot = Path::new("/newroot");
    match root_dir {
        Some(RootSource::Overlay(made)) => overlay::attach(made, newroot)?,
        Some(RootSource::Dir(dir)) => {
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
    let last = match cgroupfs_last {
        Some(hook) if cgroupfs_may_come_last(cfg) => Some(hook),
        Some(_) => {
            return Err(Error::Invalid {
                path: crate::CGROUPFS.into(),
                reason: "something else of the root is mounted there: it cannot come last",
            })
        }
        None => None,
    };
    let pinned = mounts::make_all(root.as_fd(), cfg, &sources, last.is_some())?;
    protect::apply(
        root.as_fd(),
        &pinned,
        &cfg.masked_paths,
        &cfg.readonly_paths,
    )?;
    if let Some(path) = workdir {
        workdir::create(root.as_fd(), path).map_err(|e| Error::Workdir {
            path: path.into(),
            source: Box::new(e),
        })?;
    }
    if cfg.readonly {
        finish::readonly_root(root.as_fd())?;
    }
    // With the new mount API, a last /sys/fs/cgroup is mounted once the root is entered
    // (through box's own /sys): its view may be in the making meanwhile.
    let mut view = None;
    if let (Some(hook), Some(fs)) = (last, &cfg.cgroupfs) {
        let after_pivot = crate::cgroupfs::new_mount_api();
        hook.before()
            .map_err(|message| Error::BeforeCgroupfs { message })?;
        let sys = pinned.iter().rev().find(|p| p.spot == &SYS);
        let sys = sys.ok_or(Error::Invalid {
            path: crate::CGROUPFS.into(),
            reason: "no /sys of box's to mount it in",
        })?;
        match after_pivot {
            true => view = Some((hook, fs, sys)),
            false => crate::cgroupfs::make(sys.fd(), fs, None, HOST_PROC)?,
        }
    }
    if let Some(step) = before {
        crate::before::run(cfg, newroot, step)?;
    }
    // Nothing may keep the old root's mounts alive once it is detached.
    drop(sources);
    drop(root);
    match host_mounts {
        Some(host) => {
            nopivot::detach_host(host, Path::new("/oldroot"))?;
            nopivot::enter(newroot, "root")?;
        }
        None => finish::pivot(newroot)?,
    }
    if let Some((hook, fs, sys)) = view {
        let made = hook
            .view()
            .map_err(|message| Error::BeforeCgroupfs { message })?;
        crate::cgroupfs::make(sys.fd(), fs, made, "/proc")?;
    }
    let root = sys::open_path("open new root", Path::new("/"))?;
    for spot in SPOTS {
        // The one the container sees: the last made there.
        if let Some(pin) = pinned.iter().rev().find(|p| p.spot == spot) {
            pin.verify(root.as_fd())?;
        }
    }
    Ok(())
}

/// What becomes the new root, opened or made while the host's root is still ours.
enum RootSource {
    Dir(OwnedFd),
    Overlay(overlay::Made),
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
/// host's root at `/oldroot` (with `no_pivot`, a recursive bind of it). Nothing is created
/// on the host.
fn stage(no_pivot: bool) -> Result<(), Error> {
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
    if no_pivot {
        nopivot::stage(tmp)?;
    } else {
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
    }
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

#[cfg(test)]
mod cgroupfs_last_tests {
    use std::path::PathBuf;

    use super::cgroupfs_may_come_last;
    use crate::{CgroupFs, Mount, RootfsConfig};

    #[test]
    fn the_cgroup_view_comes_last_only_when_nothing_else_goes_under_it() {
        let mut cfg = RootfsConfig {
            cgroupfs: Some(CgroupFs::Unified),
            ..Default::default()
        };
        assert!(cgroupfs_may_come_last(&cfg), "Docker's defaults");
        let without = RootfsConfig::default();
        assert!(!cgroupfs_may_come_last(&without), "no view to mount");

        let mut mounted = cfg.clone();
        mounted
            .mounts
            .push(Mount::tmpfs("/sys/fs/cgroup/extra", None, None));
        assert!(!cgroupfs_may_come_last(&mounted), "a mount under it");
        let mut masked = cfg.clone();
        masked
            .masked_paths
            .push(PathBuf::from("/sys/fs/cgroup/memory"));
        assert!(!cgroupfs_may_come_last(&masked), "a masked path under it");
        cfg.readonly_paths.push(PathBuf::from("/sys/fs/cgroup"));
        assert!(!cgroupfs_may_come_last(&cfg), "a read-only path at it");
    }
}
