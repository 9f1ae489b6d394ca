//! The start sequence of a box container: a thin layer that calls the layer crates (`box-ns`,
//! `box-cgroup`, `box-rootfs`, `box-security`) in a fixed order, owns the protocol between the
//! parent and the cloned child, and supervises the container until it exits.
//!
//! Every layer has the same shape: `prepare` in the parent before the clone (nothing is
//! created), `create` for what a layer makes on the host (on an undo stack), a step on the
//! child after the clone, and steps in the child after "go". The start is a flat list of them
//! ([`start`] in `start.rs`, the child's in `child.rs`):
//!
//! ```text
//! parent  security::prepare · rootfs::prepare · ns::prepare · net::prepare · cgroup::prepare
//!         · exec plan
//!         cgroup: create (undo: remove) · net: create (bridged: network, address, files,
//!         ports; undo: release)
//! clone   clone3(CLONE_NEW*, CLONE_INTO_CGROUP)    -> child, PID 1 of its pid namespace
//! child   cgroup: join the v1 hierarchies by itself (at once, alongside the parent's step)
//! parent  ns: uid/gid maps · net: veth into it · "go" · rootfs: an image's overlay root,
//!         made and sent to the child while it goes on · cgroup: sweep dead boxes' cgroups
//! child   ns: join · close fds · ns: become root · cgroup ns · hostname · net: lo, eth0
//!         · rootfs: apply
//!         · terminal · open workdir · security: identity · fchdir · signal dispositions
//!         · close-on-exec · security: capabilities, nnp, seccomp · execve
//! parent  read the report · forward signals · wait · OOM? · unwind the undo stack
//! ```

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod cgroup_v1;
mod cgroupfs;
mod channels;
mod child;
mod error;
mod exec;
mod fdpass;
mod for_children;
mod hold;
pub mod hooks;
mod inherit;
mod join;
mod lifeline;
mod overlay_root;
pub mod protocol;
mod report;
mod running;
mod spec;
mod start;
mod supervise;
mod tty;
mod undo;

pub use error::Error;
pub use hold::{create, exec_detached, Created, Hold};
pub use join::exec;
pub use protocol::{exit_code, ChildMessage, MonitorMessage, Step};
pub use report::Timing;
pub use running::Running;
pub use spec::{CgroupSpec, Process, Spec, Tunables, UserMaps, DEFAULT_PATH};
pub use start::start;
pub use supervise::{ExitStatus, Outcome, Output, Sink};

/// Starts the container and supervises it in the foreground until it exits: signals to box are
/// forwarded to it, and its terminal (if any) is connected to box's.
pub fn run(spec: &Spec) -> Result<Outcome, Error> {
    start(spec)?.supervise()
}
