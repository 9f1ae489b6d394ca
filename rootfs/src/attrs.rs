//! Making one mount the way its options say, wherever its target was found: the `mount(2)`
//! calls for a fresh filesystem and a bind, the flags a bind gets afterwards, the
//! propagation, and the fallbacks some filesystems need.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;

use crate::options::{MountOptions, ReadOnly};
use crate::sys::{self, fd_path, HOST_PROC};
use crate::{Error, Mount, MountType};

/// The step a mount of `m`'s type is, in messages.
fn step(m: &Mount) -> &'static str {
    match m.kind {
        MountType::Bind => "bind mount",
        MountType::Proc => "mount proc",
        MountType::Sysfs => "mount sysfs",
        MountType::Tmpfs => "mount tmpfs",
        MountType::Devpts => "mount devpts",
        MountType::Mqueue => "mount mqueue",
        MountType::Cgroup2 => "mount cgroup2",
        MountType::Other(_) => "mount",
    }
}

/// `m` failed at `shown` with `errno`.
pub(crate) fn mount_error(m: &Mount, shown: &Path, errno: Errno) -> Error {
    let src = m.source.clone().or_else(|| Some(m.kind.name().into()));
    Error::Mount {
        step: step(m),
        src,
        target: shown.into(),
        errno,
    }
}

/// A bind whose source box did not open before the staging.
pub(crate) fn unopened(m: &Mount) -> Error {
    Error::Invalid {
        path: m.source.clone().unwrap_or_default(),
        reason: "bind source was not opened",
    }
}

/// A new filesystem of `m`'s type on `target` (what the kernel gets), with `data`.
pub(crate) fn mount_fresh(
    m: &Mount,
    target: &Path,
    shown: &Path,
    data: &[String],
) -> Result<(), Error> {
    let data = (!data.is_empty()).then(|| data.join(","));
    nix::mount::mount(
        m.source.as_deref(),
        target,
        Some(m.kind.name()),
        m.options.fresh_ms(),
        data.as_deref(),
    )
    .map_err(|errno| mount_error(m, shown, errno))
}

/// A new filesystem of `m`'s type, not yet attached anywhere (the new mount API), with its
/// options and per-mount flags; `None` where the kernel lacks the API, for a `mount(2)` at
/// its place later (where host paths in its options no longer resolve as the host's).
pub(crate) fn detached(m: &Mount) -> Result<Option<OwnedFd>, Error> {
    let flags = m.options.fresh_ms();
    match crate::mountapi::fresh(m.kind.name(), m.source.as_deref(), &m.options.data, flags) {
        Ok(fd) => Ok(Some(fd)),
        Err(f) if crate::mountapi::unsupported(&f) => Ok(None),
        Err((_, errno)) => Err(mount_error(m, &m.destination, errno)),
    }
}

/// Attaches `mnt`, made by [`detached`], on `target`.
pub(crate) fn attach(m: &Mount, mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> Result<(), Error> {
    crate::mountapi::attach(mnt, target).map_err(|(_, errno)| mount_error(m, &m.destination, errno))
}

/// A bind of `src` on `target` (recursive with `rbind`); its flags come after.
pub(crate) fn mount_bind(
    m: &Mount,
    src: BorrowedFd<'_>,
    target: &Path,
    shown: &Path,
) -> Result<(), Error> {
    let mut flags = MsFlags::MS_BIND;
    if m.options.recursive {
        flags |= MsFlags::MS_REC;
    }
    nix::mount::mount(
        Some(&fd_path(src)),
        target,
        None::<&str>,
        flags,
        None::<&str>,
    )
    .map_err(|errno| mount_error(m, shown, errno))
}

/// A devpts whose `gid=` is not mapped in this user namespace is refused (EINVAL): it is
/// tried again without that option. Every other mount is tried once.
pub(crate) fn with_gid_fallback<T>(
    m: &Mount,
    mut mount: impl FnMut(&[String]) -> Result<T, Error>,
) -> Result<T, Error> {
    let data = &m.options.data;
    match mount(data) {
        Err(Error::Mount {
            errno: Errno::EINVAL,
            ..
        }) if m.kind == MountType::Devpts && data.iter().any(|d| d.starts_with("gid=")) => {
            let without: Vec<String> = data
                .iter()
                .filter(|d| !d.starts_with("gid="))
                .cloned()
                .collect();
            mount(&without)
        }
        other => other,
    }
}

/// The flags of a bind, on the root of the mount (`mnt`): read-only, set and cleared flags.
/// A bind starts with its source's; the kernel keeps those a user namespace locked.
pub(crate) fn bind(mnt: BorrowedFd<'_>, shown: &Path, o: &MountOptions) -> Result<(), Error> {
    if o.readonly == ReadOnly::Recursive {
        sys::make_readonly(mnt, shown, true, HOST_PROC)?;
    }
    let mut set = o.flags.ms();
    if o.readonly == ReadOnly::Yes {
        set |= MsFlags::MS_RDONLY;
    }
    let clear = o.cleared.ms();
    if set.is_empty() && clear.is_empty() {
        return Ok(());
    }
    sys::set_flags(mnt, shown, set, clear, HOST_PROC)
}

/// The propagation the options ask for, on the root of the mount (`mnt`).
pub(crate) fn propagation(
    mnt: BorrowedFd<'_>,
    shown: &Path,
    o: &MountOptions,
) -> Result<(), Error> {
    let Some(p) = o.propagation else {
        return Ok(());
    };
    sys::mount(
        "set propagation",
        None,
        &fd_path(mnt),
        shown,
        None,
        p.ms(),
        None,
    )
}
