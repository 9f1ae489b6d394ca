//! Linux namespaces, one typed layer: which kinds exist, how a container gets each one
//! (a new one, the host's, or joined from a path), how a child is cloned into them, and how to
//! tell whether two processes share one — by the (device, inode) pair the kernel exposes in
//! `/proc/PID/ns/KIND`.
//!
//! ```no_run
//! use box_ns::{Kind, NsId};
//! let mine = NsId::of_self(Kind::Net).unwrap();
//! let init = NsId::of_pid(1, Kind::Net).unwrap();
//! println!("net namespace shared with pid 1: {}", mine == init);
//! ```

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod clone;
mod config;
mod error;
mod identity;
mod idmap;
mod kind;
mod prepared;
mod sysctl;

pub use clone::{clone_child, CloneOptions, Cloned};
pub use config::{Joins, Mode, NsConfig};
pub use error::Error;
pub use identity::{compare, Comparison, NsId};
pub use idmap::{become_root, write_id_maps, IdMap};
pub use kind::Kind;
pub use prepared::{check, prepare, Prepared};
pub use sysctl::{check_sysctls, set_domainname, write_sysctls};
