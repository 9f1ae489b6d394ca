//! Container images for box: references, a content-addressed store, pulls from registries,
//! loads of `docker save` archives and OCI layouts, and layer unpacking that a hostile layer
//! cannot use to write outside its directory.
//!
//! A layer crate: it depends on no other part of box, and it is usable alone:
//!
//! ```no_run
//! use box_image::{progress::Quiet, PullOptions, Reference, Store};
//!
//! let store = Store::open("/var/lib/box")?;
//! let reference = Reference::parse("busybox")?;
//! store.pull(&reference, &PullOptions::default(), &Quiet)?;
//! let image = store.image("busybox")?;
//! // image.layers: the overlay lower directories, bottom first;
//! // image.plan(&overrides) and image.identity(user): what a container on it runs, as whom.
//! # Ok::<(), box_image::Error>(())
//! ```
//!
//! See docs/images.md for the store's layout and the pull path.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod compression;
pub mod config;
pub mod digest;
mod error;
mod load;
pub mod manifest;
pub mod platform;
pub mod process;
pub mod progress;
mod pull;
pub mod reference;
pub mod registry;
pub mod store;
pub mod unpack;
pub mod user;

#[cfg(test)]
mod testutil;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use config::ImageConfig;
pub use digest::Digest;
pub use error::{Error, Result};
pub use load::{LoadOptions, Loaded};
pub use platform::Platform;
pub use pull::{PullOptions, Pulled};
pub use reference::Reference;
pub use registry::{Mirror, RegistryOptions};
pub use store::{Image, ImageRecord, Store};
