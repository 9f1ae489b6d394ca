//! Loading the device program and attaching it to a cgroup2 directory with `bpf(2)`. libc
//! has the syscall number but not `union bpf_attr`, so each command's part of the union is
//! declared here, `#[repr(C)]` as in `linux/bpf.h`; the kernel zero-fills what we do not pass.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use super::bpf::{Insn, RawInsn, MAX_INSNS};
use crate::error::Error;

// enum bpf_cmd, bpf_prog_type, bpf_attach_type and flags.
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Run alongside the programs of the ancestors (and let descendants add their own): every
/// program on the way up must allow an access.
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

/// A license string is required (the kernel copies it); GPL compatibility only matters for
/// GPL-only helpers, and this program calls none.
const LICENSE: &[u8] = b"Apache-2.0\0";
/// Shown by `bpftool prog`.
const NAME: &[u8] = b"box_devices";

#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}

#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgQuery {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    /// Explicit, so that it is zero like the rest.
    _pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetFdById {
    prog_id: u32,
}

/// `bpf(cmd, attr, sizeof attr)`: the returned value (an fd for some commands) or the errno.
fn bpf<T>(cmd: libc::c_int, attr: &mut T) -> Result<libc::c_long, Errno> {
    // SAFETY: `attr` is a live, exclusively borrowed repr(C) struct of the layout the kernel
    // expects for `cmd`, and its size is passed along; every pointer in it points to memory
    // that outlives the call (the caller's buffers).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>(),
        )
    };
    Errno::result(rc)
}

/// An fd the kernel just returned from `bpf(2)`.
fn owned(rc: libc::c_long) -> OwnedFd {
    // SAFETY: a successful BPF_PROG_LOAD/GET_FD_BY_ID returns a new fd (close-on-exec) that
    // nothing else owns.
    unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }
}

/// Load `prog`, attach it to the cgroup2 directory `dir` (shown as `path` in errors), then
/// detach the device programs that were attached there before, so that applying a policy
/// again replaces it (the new one is in place before the old ones go: never a moment with
/// neither).
pub(crate) fn install(dir: BorrowedFd<'_>, path: &Path, prog: &[Insn]) -> Result<(), Error> {
    let err = |step: &'static str, errno: Errno, detail: String| Error::Bpf {
        step,
        path: path.to_path_buf(),
        errno,
        detail,
    };
    if prog.len() > MAX_INSNS {
        let detail = format!(": {} instructions, at most {MAX_INSNS}", prog.len());
        return Err(err("build device program", Errno::E2BIG, detail));
    }
    let old = attached(dir).map_err(|e| err("query device programs", e, String::new()))?;
    let fd = load(prog).map_err(|(e, log)| err("load device program", e, log))?;
    let mut attach = ProgAttach {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &mut attach)
        .map_err(|e| err("attach device program", e, String::new()))?;
    // The cgroup keeps the program alive from here on.
    drop(fd);
    for id in old {
        let mut get = GetFdById { prog_id: id };
        let old_fd = match bpf(BPF_PROG_GET_FD_BY_ID, &mut get) {
            Ok(rc) => owned(rc),
            // Detached meanwhile.
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(err("open old device program", e, format!(" (id {id})"))),
        };
        let mut detach = ProgAttach {
            target_fd: dir.as_raw_fd() as u32,
            attach_bpf_fd: old_fd.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            attach_flags: 0,
        };
        bpf(BPF_PROG_DETACH, &mut detach)
            .map_err(|e| err("detach old device program", e, format!(" (id {id})")))?;
    }
    Ok(())
}

/// The ids of the device programs attached to `dir` itself (not its ancestors').
pub(crate) fn attached(dir: BorrowedFd<'_>) -> Result<Vec<u32>, Errno> {
    // The kernel allows 64 programs per cgroup and attach type.
    let mut ids = vec![0u32; 64];
    let mut query = ProgQuery {
        target_fd: dir.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut query)?;
    ids.truncate(query.prog_cnt as usize);
    Ok(ids)
}

/// `BPF_PROG_LOAD`; on failure, again with the verifier's log, whose last lines say why.
fn load(prog: &[Insn]) -> Result<OwnedFd, (Errno, String)> {
    let raw: Vec<RawInsn> = prog.iter().map(|i| i.raw()).collect();
    let mut name = [0u8; 16];
    name[..NAME.len()].copy_from_slice(NAME);
    let attr = || ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: raw.len() as u32,
        insns: raw.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    let first = match bpf(BPF_PROG_LOAD, &mut attr()) {
        Ok(rc) => return Ok(owned(rc)),
        Err(e) => e,
    };
    let mut log = vec![0u8; 1 << 16];
    let mut with_log = ProgLoad {
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        ..attr()
    };
    if let Ok(rc) = bpf(BPF_PROG_LOAD, &mut with_log) {
        return Ok(owned(rc));
    }
    let text = String::from_utf8_lossy(&log);
    let text = text.trim_end_matches('\0');
    let tail: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let tail = tail[tail.len().saturating_sub(3)..].join("; ");
    let hint = match first {
        // Before 5.11 the kernel charges programs to RLIMIT_MEMLOCK.
        Errno::EPERM => {
            " (needs CAP_BPF or CAP_SYS_ADMIN; kernels before 5.11 also RLIMIT_MEMLOCK)"
        }
        _ => "",
    };
    let detail = if tail.is_empty() {
        hint.to_string()
    } else {
        format!("{hint}: verifier: {tail}")
    };
    Err((first, detail))
}
