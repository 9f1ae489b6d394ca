//! The two kernel calls box makes by hand; every other capability call goes through the caps
//! crate. Both act on the calling thread.
//!
//! - Dropping from the bounding set by number: the container's bounding set must lose every
//!   capability up to the kernel's `cap_last_cap`, including ones newer than caps' enum
//!   (which ends at CAP_CHECKPOINT_RESTORE). caps can only drop what it can name, so on a
//!   newer kernel those would stay in the container's bounding set.
//! - Installing a seccomp filter: caps has none, and seccompiler's installer sets
//!   no_new_privs itself, which is the configuration's decision.

use nix::errno::Errno;

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
