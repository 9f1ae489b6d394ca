//! The attack suite: each test starts a container with box's **default** security (a busybox
//! root, no setting but the command and the mounts the attack needs), attacks a boundary from
//! inside it, asserts what the kernel answered (the errno, or what the attack reached), and
//! then checks the **host**: its mount table, a marker file that must not exist, a value that
//! must not have changed. A defence that failed must show on the host, not only in an errno.
//!
//! The attacks run through `box-probe` (`tests/src/bin/box-probe/`), bind-mounted read-only at
//! `/probe`: it makes the raw syscalls and prints `NAME: ERRNO` lines. Every attack is built so
//! that, were a defence missing, it could not harm the host beyond what the test then detects
//! and undoes (kernel knobs are only opened for writing, never written; a sysctl written is
//! restored).
//!
//! Like every end-to-end test, these run as root and fail without it.
//!
//! - `syscalls`: kernel-wide syscalls, creating namespaces, joining the host's.
//! - `procfs`: kernel knobs in `/proc` and `/sys`.
//! - `mounts`: mounting, unmounting, pivot_root; making a read-only mount writable.
//! - `fds`: `..` out of the root from every fd, cwd and root; the chroot escape.
//! - `workdir`: a workdir (box.toml, `box exec -w`, or one the container swapped for a link)
//!   that names an fd of box's, `/proc/self/fd/N` (runc's CVE-2024-21626).
//! - `leaked_fds`: a host directory fd leaked to box by its caller, walked from inside.
//! - `exe`: box's binary through `/proc/PID/exe` of a `box exec` before it execs (runc's
//!   CVE-2019-5736), and everything else its `/proc/PID` gives.
//! - `devices`: `mknod` and open of host block devices and `/dev/kmsg`; the device policy.
//! - `masks`, `rootfs`: a `/proc` swapped during the start; a root that is the host's `/`, or
//!   whose `/proc`, `/sys`, `/dev` are links or files.
//! - `logs`, `names`: a detached container's stdout as a host file; names out of the state root.

mod devices;
mod exe;
mod fds;
mod leaked_fds;
mod logs;
mod masks;
mod mounts;
mod names;
mod procfs;
mod rootfs;
mod secret;
mod support;
mod syscalls;
mod workdir;
