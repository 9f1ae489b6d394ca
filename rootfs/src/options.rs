//! Mount options, typed, and their words: OCI's `mounts[].options`, Docker's and `mount -o`'s
//! (`nosuid`, `rbind`, `rprivate`, `ro`, `mode=755`). Every front end (box.toml, an OCI
//! bundle) reads them through [`Mount::parse`](crate::Mount::parse), and a [`Mount`] is
//! written back in the same words, so a word means the same everywhere.
//!
//! A word is a mount flag, its clearing form (`suid` clears `nosuid`), read-only (`ro`, `rro`
//! for the whole tree, `rw`), a bind (`bind`, `rbind`), a propagation (`rprivate`, `shared`,
//! ...), a no-op (`defaults`), or anything else: then it is the filesystem's own option
//! (`mode=755`, `newinstance`), handed to the kernel in order. Words the kernel or other
//! runtimes know but box does not do (`sync`, `remount`, `idmap`, the recursive `rnosuid`
//! family but `rro`) are refused, never passed on as filesystem options.
//!
//! [`Mount`]: crate::Mount

use nix::mount::MsFlags;

bitflags::bitflags! {
    /// Flags of one mount (each bind of a filesystem may differ), as `mount_setattr(2)` sets
    /// them. Of the access-time modes (`noatime`, `relatime`, `strictatime`) at most one is
    /// set; none means the kernel's default, `relatime`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MountFlags: u32 {
        const NOSUID = 1;
        const NODEV = 1 << 1;
        const NOEXEC = 1 << 2;
        const NOATIME = 1 << 3;
        const RELATIME = 1 << 4;
        const STRICTATIME = 1 << 5;
        const NODIRATIME = 1 << 6;
        const NOSYMFOLLOW = 1 << 7;
    }
}

/// Each flag: its word, the word that clears it, and the kernel's `MS_*` bit.
const FLAGS: &[(MountFlags, &str, &str, libc::c_ulong)] = &[
    (MountFlags::NOSUID, "nosuid", "suid", libc::MS_NOSUID),
    (MountFlags::NODEV, "nodev", "dev", libc::MS_NODEV),
    (MountFlags::NOEXEC, "noexec", "exec", libc::MS_NOEXEC),
    (MountFlags::NOATIME, "noatime", "atime", libc::MS_NOATIME),
    (
        MountFlags::RELATIME,
        "relatime",
        "norelatime",
        libc::MS_RELATIME,
    ),
    (
        MountFlags::STRICTATIME,
        "strictatime",
        "nostrictatime",
        libc::MS_STRICTATIME,
    ),
    (
        MountFlags::NODIRATIME,
        "nodiratime",
        "diratime",
        libc::MS_NODIRATIME,
    ),
    (
        MountFlags::NOSYMFOLLOW,
        "nosymfollow",
        "symfollow",
        libc::MS_NOSYMFOLLOW,
    ),
];

impl MountFlags {
    /// The access-time modes, of which a mount has one.
    pub const ATIME: MountFlags = MountFlags::NOATIME
        .union(MountFlags::RELATIME)
        .union(MountFlags::STRICTATIME);

    /// The same flags as `mount(2)` takes them.
    pub(crate) fn ms(self) -> MsFlags {
        FLAGS
            .iter()
            .filter(|(f, ..)| self.contains(*f))
            .fold(MsFlags::empty(), |acc, (.., ms)| {
                acc | MsFlags::from_bits_retain(*ms)
            })
    }
}

/// Whether a mount is read-only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ReadOnly {
    /// Writable (`rw`, the default).
    #[default]
    No,
    /// This mount is read-only (`ro`); for a recursive bind, mounts below it keep their own
    /// setting.
    Yes,
    /// This mount and every mount below it (`rro`, Linux 5.12+; older kernels get the top
    /// mount only).
    Recursive,
}

/// A mount's propagation type (`mount --make-*`): whether mount events below it reach its
/// peers and come from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropagationType {
    Private,
    Slave,
    Shared,
    Unbindable,
}

/// A propagation change applied to a mount once it is made; `recursive`: to the mounts below
/// it too (`rprivate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MountPropagation {
    pub kind: PropagationType,
    pub recursive: bool,
}

impl MountPropagation {
    /// The `mount(2)` flags that make the change.
    pub(crate) fn ms(self) -> MsFlags {
        let kind = match self.kind {
            PropagationType::Private => MsFlags::MS_PRIVATE,
            PropagationType::Slave => MsFlags::MS_SLAVE,
            PropagationType::Shared => MsFlags::MS_SHARED,
            PropagationType::Unbindable => MsFlags::MS_UNBINDABLE,
        };
        if self.recursive {
            kind | MsFlags::MS_REC
        } else {
            kind
        }
    }
}

/// How a mount is made and what it looks like once made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags set on the mount.
    pub flags: MountFlags,
    /// Flags asked to be clear (`suid`, `dev`, `exec`...): a bind drops them from what it
    /// would otherwise keep of its source's mount. A fresh filesystem has none to begin with.
    pub cleared: MountFlags,
    pub readonly: ReadOnly,
    /// A bind also binds the mounts below its source (`rbind`), not only the source's own
    /// mount (`bind`). Only for bind mounts.
    pub recursive: bool,
    /// Set on the mount once it is made; `None` keeps what it got (a new mount in box's
    /// private namespace is private).
    pub propagation: Option<MountPropagation>,
    /// The filesystem's own options, in order: `mode=755`, `size=65536k`, `newinstance`.
    /// None for a bind mount.
    pub data: Vec<String>,
}

/// Why a mount (its type or an option word) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MountError {
    /// The filesystem type is not one box mounts.
    #[error(
        "mount type {0:?} is not supported (a filesystem type's name, but not cgroup v1: box mounts the container's cgroup2)"
    )]
    UnknownType(String),
    /// Neither a type nor a `bind`/`rbind` option.
    #[error("a mount needs a type (or the option \"bind\" or \"rbind\")")]
    NoType,
    /// A word other runtimes or the kernel know, which box does not do.
    #[error("mount option {0:?} is not supported")]
    Unsupported(String),
    /// A word that cannot be an option at all.
    #[error("mount option {word:?}: {reason}")]
    Invalid { word: String, reason: &'static str },
    /// Two propagation words: which one applies would be a guess.
    #[error("mount options {first:?} and {second:?} both set the propagation")]
    TwoPropagations { first: String, second: String },
}

impl MountOptions {
    /// The `mount(2)` flags of a fresh filesystem with these options.
    pub(crate) fn fresh_ms(&self) -> MsFlags {
        let ro = match self.readonly {
            ReadOnly::No => MsFlags::empty(),
            ReadOnly::Yes | ReadOnly::Recursive => MsFlags::MS_RDONLY,
        };
        self.flags.ms() | ro
    }
}

mod words;

pub(crate) use words::parse;

#[cfg(test)]
mod tests;
