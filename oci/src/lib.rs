//! box as an OCI runtime: runc's command line (`box-runc`) over an OCI bundle. The bundle's
//! `config.json` becomes the same [`box_launcher::Spec`] box.toml produces ([`convert`]);
//! `create` leaves the container's process held before `execve` ([`box_launcher::create`]),
//! `start` lets it go. docs/oci.md says what each field and command does.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cgroup;
pub mod cli;
pub mod commands;
pub mod console;
pub mod convert;
pub mod hooks;
pub mod log;
pub mod signal;
pub mod state;
