//! The kernel calls box makes by hand; the ambient set and the host's sets are read and
//! changed through the caps crate. All act on the calling thread.
//!
//! - capget/capset of the three thread sets: caps sets one set per call (a capget and a
//!   capset each, through hash sets), which made the child's capability step about twice as
//!   slow (measured with `box up --timings`); one capset sets all three at once, with no
//!   intermediate state between them.
//! - Dropping from the bounding set by number: the container's bounding set must lose every
//!   capability up to the kernel's `cap_last_cap`, including ones newer than caps' enum
//!   (which ends at CAP_CHECKPOINT_RESTORE). caps can only drop what it can name, so on a
//!   newer kernel those would stay in the container's bounding set.
//! - Installing a seccomp filter: caps has none, and seccompiler's installer sets
//!   no_new_privs itself, which is the configuration's decision.

use nix::errno::Errno;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The three per-thread capability sets as 64-bit masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ThreadCaps {
    pub(crate) effective: u64,
    pub(crate) permitted: u64,
    pub(crate) inheritable: u64,
}

fn join(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

/// `capget` for the calling thread.
pub(crate) fn capget() -> Result<ThreadCaps, Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array are what capget(2) expects for version 3;
    // both live for the duration of the call.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    Errno::result(rc)?;
    Ok(ThreadCaps {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// `capset` for the calling thread, all three sets at once (so no ordering constraints between
/// them apply).
pub(crate) fn capset(caps: ThreadCaps) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(caps.effective);
    let (p0, p1) = split(caps.permitted);
    let (i0, i1) = split(caps.inheritable);
    let data = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    // SAFETY: same layout contract as capget; the kernel only reads `data`.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    Errno::result(rc).map(drop)
}

/// Drops capability number `cap` from the bounding set (needs CAP_SETPCAP).
pub(crate) fn bounding_drop(cap: u8) -> Result<(), Errno> {
    // SAFETY: PR_CAPBSET_DROP takes only integers; no pointers are involved.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAPBSET_DROP,
            libc::c_ulong::from(cap),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    Errno::result(rc).map(drop)
}

/// Installs a classic-BPF seccomp filter on the calling thread.
pub(crate) fn seccomp_install(program: &[libc::sock_filter], flags: u32) -> Result<(), Errno> {
    let len = u16::try_from(program.len()).map_err(|_| Errno::E2BIG)?;
    let fprog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `program`, which outlives the call; the kernel copies the
    // program and never writes through the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            libc::c_ulong::from(flags),
            &fprog as *const libc::sock_fprog,
        )
    };
    Errno::result(rc).map(drop)
}
