//! The two child-side steps. Both act on the calling (single) thread and only make kernel
//! calls; all decisions were made by `prepare`.

use nix::errno::Errno;
use nix::sys::prctl;
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};

use caps::CapSet as Set;

use crate::capabilities::Capability;
use crate::error::{caps_error, sys, Error, Result, Step};
use crate::prepare::Prepared;
use crate::sys::{self as k, ThreadCaps};
use crate::{lsm, rlimit};

impl Prepared {
    /// Child: sets rlimits, supplementary groups, gid and uid — keeping the permitted
    /// capabilities across the uid change (`PR_SET_KEEPCAPS`) so
    /// [`Prepared::apply_restrictions`] can still set them.
    ///
    /// Call after the root filesystem is in place. A uid change clears `PR_SET_PDEATHSIG`, so
    /// set it again afterwards.
    pub fn apply_identity(&self) -> Result<()> {
        apply_identity(self)
    }

    /// Child, last before `execve`: the LSM exec label, the capability sets (bounding drop,
    /// then permitted/effective/inheritable, then ambient), no_new_privs, and the seccomp
    /// filter last.
    ///
    /// Must be followed by `execve`: the kernel recomputes permitted and effective at execve
    /// from the bounding, inheritable and ambient sets set here. When a filter is installed
    /// without no_new_privs, CAP_SYS_ADMIN (which the kernel requires for that) stays in
    /// permitted/effective until that execve — never in the bounding set, so the container
    /// never has it. Do `close_range(CLOEXEC)` before this call: whatever runs after it is
    /// filtered (a profile need not allow close_range); only restoring signal state and
    /// `execve` should.
    pub fn apply_restrictions(&self) -> Result<()> {
        apply_restrictions(self)
    }
}

fn apply_identity(prepared: &Prepared) -> Result<()> {
    // Limits first, while the process may still lower (and, with CAP_SYS_RESOURCE, raise) them.
    rlimit::apply(&prepared.rlimits)?;
    prctl::set_keepcaps(true).map_err(sys(Step::KeepCaps))?;
    let user = &prepared.user;
    let groups: Vec<Gid> = user
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    if let Err(errno) = setgroups(&groups) {
        // In a user namespace with setgroups denied, the inherited list cannot be changed at
        // all; that is only acceptable when no groups were asked for.
        if !(errno == Errno::EPERM && groups.is_empty() && setgroups_denied()) {
            return Err(Error::Sys {
                step: Step::SetGroups,
                errno,
            });
        }
    }
    let gid = Gid::from_raw(user.gid);
    setresgid(gid, gid, gid).map_err(sys(Step::SetGid))?;
    let uid = Uid::from_raw(user.uid);
    setresuid(uid, uid, uid).map_err(sys(Step::SetUid))?;
    Ok(())
}

fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

fn apply_restrictions(prepared: &Prepared) -> Result<()> {
    lsm::apply(&prepared.lsm)?;

    // Dropping from the bounding set needs CAP_SETPCAP in the effective set, which the uid
    // change may have cleared (permitted survived thanks to KEEPCAPS).
    let current = k::capget().map_err(sys(Step::CapGet))?;
    k::capset(ThreadCaps {
        effective: current.permitted,
        ..current
    })
    .map_err(sys(Step::RaiseEffective))?;
    for &cap in &prepared.drop_bounding {
        k::bounding_drop(cap).map_err(sys(Step::DropBounding(cap)))?;
    }

    let sets = &prepared.capabilities;
    let held = if prepared.hold_sys_admin {
        Capability::CAP_SYS_ADMIN.bitmask()
    } else {
        0
    };
    k::capset(ThreadCaps {
        effective: sets.effective.bits() | held,
        permitted: sets.permitted.bits() | held,
        inheritable: sets.inheritable.bits(),
    })
    .map_err(sys(Step::CapSet))?;
    prctl::set_keepcaps(false).map_err(sys(Step::KeepCaps))?;

    if let Err(e) = caps::clear(None, Set::Ambient) {
        // Kernels before 4.3 have no ambient set; fine as long as none is wanted.
        let no_ambient_set = caps::runtime::ambient_set_supported().is_err();
        if !(no_ambient_set && sets.ambient.is_empty()) {
            return Err(caps_error(Step::ClearAmbient)(e));
        }
    }
    for cap in sets.ambient.iter() {
        caps::raise(None, Set::Ambient, cap)
            .map_err(caps_error(Step::RaiseAmbient(cap.index())))?;
    }

    if prepared.no_new_privs {
        prctl::set_no_new_privs().map_err(sys(Step::NoNewPrivs))?;
    }
    if let Some(filter) = &prepared.seccomp {
        k::seccomp_install(&filter.to_kernel(), filter.flags())
            .map_err(sys(Step::SeccompInstall))?;
    }
    Ok(())
}
