//! Attacks on box's boundaries, from inside a container, alongside it or from the command
//! line, each followed by a look at the host: its mount table, a sysctl's value, a device's
//! content, a marker file that must not exist, a secret outside every container that must not
//! have been read, a binary that must not have changed.
//!
//! - `workdir`: a workdir (box.toml, `box exec -w`, or one the container swapped for a link)
//!   that names an fd of box's, `/proc/self/fd/N` (runc's CVE-2024-21626).
//! - `leaked_fds`: a host directory fd leaked to box by its caller, walked from inside.
//! - `exe`: box's binary through `/proc/PID/exe` of a `box exec` before it execs (runc's
//!   CVE-2019-5736), and everything else its `/proc/PID` gives.

mod devices;
mod exe;
mod leaked_fds;
mod logs;
mod masks;
mod names;
mod rootfs;
mod secret;
mod workdir;
