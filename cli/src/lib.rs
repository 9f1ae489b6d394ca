//! box's parsers of hostile input, as a library: the `box` binary (main.rs) is built on it,
//! and so are the fuzz targets (`fuzz/`).
//!
//! - [`config`]: a box.toml, from a file ([`config::load`]) or from text
//!   ([`config::from_text`]), checked into launcher specs ([`config::plan`]); every error names
//!   file:line:col and the key.
//! - [`template`]: the Go-template subset of `box inspect --format`, rendered against a JSON
//!   value.
//! - [`run`]: `box run`'s options, turned into the box.toml they mean.
//! - [`name`]: container names, the one rule every name from outside is checked by.
//! - [`human`]: sizes and times as Docker shows them, and an image's RFC 3339 times.
//! - [`fetch_args`]: `box pull`'s and `box load`'s options, which `box-fetch` parses too.

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod stdio;
pub mod config;
pub mod fetch_args;
pub mod human;
pub mod init;
pub mod name;
pub mod run;
pub mod template;

#[doc(hidden)]
pub mod fuzz;
