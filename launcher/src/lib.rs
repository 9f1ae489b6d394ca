//! The start sequence of a box container: a thin layer that calls the layer crates (`box-ns`,
//! `box-cgroup`, `box-rootfs`, `box-security`) in a fixed order, owns the sync protocol between
//! the parent and the cloned child, and supervises the container until it exits.
//!
//! ```text
//! parent  prepare: security (resolve caps, compile seccomp) · rootfs check · open ns joins
//!         cgroup: create, write limits
//! ns      clone3(CLONE_NEW*, CLONE_INTO_CGROUP)    -> child, PID 1 of its pid namespace
//! parent  uid/gid maps · join cgroup (v1) · "go"
//! child   setns joins · close fds · cgroup ns · hostname · rootfs · terminal · open workdir
//!         · user · fchdir · signal dispositions · close-on-exec · caps, nnp, seccomp · execve
//! parent  report start errors · forward signals · wait · OOM? · remove cgroup
//! ```

mod child;
mod error;
mod exec;
mod inherit;
mod join;
mod lifeline;
mod parent;
mod report;
mod spec;
mod supervise;
mod tty;

pub use error::Error;
pub use join::exec;
pub use parent::{start, Running};
pub use report::Timing;
pub use spec::{CgroupSpec, Process, Spec, UserMaps, DEFAULT_PATH};
pub use supervise::{ExitStatus, Outcome, Output};

/// Starts the container and supervises it in the foreground until it exits: signals to box are
/// forwarded to it, and its terminal (if any) is connected to box's.
pub fn run(spec: &Spec) -> Result<Outcome, Error> {
    start(spec)?.supervise()
}
