//! Thin wrappers over the kernel calls nix does not cover (capget/capset, capability prctls,
//! seccomp). All of them act on the calling thread.

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

fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> Result<libc::c_int, Errno> {
    // SAFETY: only integer-argument prctl options are passed here; no pointers are involved.
    let rc = unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    Errno::result(rc)
}

/// Whether capability number `cap` is in the calling thread's bounding set.
pub(crate) fn bounding_has(cap: u8) -> Result<bool, Errno> {
    prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap)).map(|v| v == 1)
}

/// Drops capability number `cap` from the bounding set (needs CAP_SETPCAP).
pub(crate) fn bounding_drop(cap: u8) -> Result<(), Errno> {
    prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap)).map(drop)
}

/// Clears the ambient set.
pub(crate) fn ambient_clear() -> Result<(), Errno> {
    // SAFETY: integer-only prctl.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    Errno::result(rc).map(drop)
}

/// Raises capability number `cap` in the ambient set (it must be permitted and inheritable).
pub(crate) fn ambient_raise(cap: u8) -> Result<(), Errno> {
    // SAFETY: integer-only prctl.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            libc::c_ulong::from(cap),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    Errno::result(rc).map(drop)
}

/// Installs a classic-BPF seccomp filter on the calling thread.
///
/// Unlike `seccompiler::apply_filter` this does not set no_new_privs by itself: whether it is
/// set is the configuration's decision, not the installer's.
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
