//! Opening a path below a directory fd without following any symlink: `openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS` (Linux 5.6+), else a walk
//! of `openat(O_NOFOLLOW)`, one name at a time.
//!
//! Paths given here are made of plain names only (no `..`, no leading `/`), so the walk
//! cannot leave the directory either.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode, SFlag};

/// Set once `openat2` turned out to be missing (ENOSYS) or filtered (a seccomp profile that
/// answers EPERM): every later call walks.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// How many times to retry `openat2` when it reports a concurrent rename (EAGAIN).
const EAGAIN_RETRIES: usize = 8;

/// Open `rel` below `base` with `flags` (`O_CLOEXEC` is always added), following no symlink
/// and never leaving `base`. An empty `rel` opens `base` itself.
pub(crate) fn open_beneath(
    base: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlag,
) -> Result<OwnedFd, Errno> {
    check_plain(rel)?;
    let flags = flags | OFlag::O_CLOEXEC;
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match with_openat2(base, rel, flags) {
            Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            // Filtered, or flags this kernel's openat2 does not take: the walk decides.
            Err(e @ (Errno::EPERM | Errno::EINVAL | Errno::E2BIG)) => {
                let walked = walk(base, rel, flags);
                if walked.is_ok() {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                }
                return walked.map_err(|_| e);
            }
            other => return other,
        }
    }
    walk(base, rel, flags)
}

fn with_openat2(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new().flags(flags).resolve(
        ResolveFlag::RESOLVE_BENEATH
            | ResolveFlag::RESOLVE_NO_SYMLINKS
            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
    );
    let path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let mut tries = 0;
    loop {
        match openat2(base, path, how) {
            Err(Errno::EAGAIN) if tries < EAGAIN_RETRIES => tries += 1,
            other => return other,
        }
    }
}

/// The fallback: each directory on the way opened `O_PATH | O_DIRECTORY | O_NOFOLLOW`, the
/// last name with `flags | O_NOFOLLOW`.
pub(crate) fn walk(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    check_plain(rel)?;
    let names: Vec<_> = rel.iter().collect();
    let Some((last, dirs)) = names.split_last() else {
        return openat(base, ".", flags | OFlag::O_CLOEXEC, Mode::empty());
    };
    let step = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut held: Option<OwnedFd> = None;
    for name in dirs {
        let at = held.as_ref().map_or(base, |fd| fd.as_fd());
        held = Some(openat(at, *name, step, Mode::empty())?);
    }
    let at = held.as_ref().map_or(base, |fd| fd.as_fd());
    let last_flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(at, *last, last_flags, Mode::empty())?;
    // O_PATH | O_NOFOLLOW opens a symlink itself instead of failing: refuse it here.
    if flags.contains(OFlag::O_PATH) {
        let st = fstat(&fd)?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
            return Err(Errno::ELOOP);
        }
    }
    Ok(fd)
}

/// Only plain names: anything else is a bug of ours, refused like the kernel would.
fn check_plain(rel: &Path) -> Result<(), Errno> {
    match rel.components().all(|c| matches!(c, Component::Normal(_))) {
        true => Ok(()),
        false => Err(Errno::EXDEV),
    }
}
