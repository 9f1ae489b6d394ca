//! Errors of the image layer: each names what failed (the registry, blob, layer, archive or
//! store path), at which step, and why (the errno, the HTTP status, the digest mismatch).

use std::io;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::digest::Digest;
use crate::reference::ReferenceError;
use crate::unpack::UnpackError;

/// Why an image operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A file operation in the store (or on an archive being loaded) failed.
    #[error("{step} {}: {source}", path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The registry could not be reached or answered with an error.
    #[error("{registry}: {step}: {message}")]
    Registry {
        registry: String,
        step: String,
        message: String,
    },
    /// Content that does not match its digest or size: refused, and removed from the store.
    #[error("{what} {digest}: {reason}; refused")]
    Verify {
        what: &'static str,
        digest: Digest,
        reason: String,
    },
    /// Reading a blob's stream failed: the connection, the archive, or data that is not what
    /// it claims (a corrupt gzip stream, more bytes than promised).
    #[error("{what} {digest}: reading failed: {source}")]
    Stream {
        what: &'static str,
        digest: Digest,
        #[source]
        source: io::Error,
    },
    /// A layer that cannot be unpacked, hostile entries included.
    #[error("layer {digest}: {source}")]
    Unpack {
        digest: Digest,
        #[source]
        source: UnpackError,
    },
    /// A manifest, index or configuration box cannot use.
    #[error("{image}: {reason}")]
    Manifest { image: String, reason: String },
    #[error("{image}: {source}")]
    Config {
        image: String,
        #[source]
        source: ConfigError,
    },
    /// An index that offers nothing for this host.
    #[error("{image}: no image for {wanted} (it has: {offered})")]
    Platform {
        image: String,
        wanted: String,
        offered: String,
    },
    /// An archive for `box load` of a shape box does not read.
    #[error("{}: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("no such image: {0}")]
    NoSuchImage(String),
    /// More than one image matches a short ID.
    #[error("{0}: more than one image matches; give more of the ID or a name")]
    Ambiguous(String),
    /// `rmi` of an image a container uses.
    #[error("image {image} is used by container {container}; remove the container first")]
    InUse { image: String, container: String },
    /// `rmi` by ID of an image with several names.
    #[error("image {image} has several names ({names}); remove them one by one, or force")]
    SeveralNames { image: String, names: String },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error::Io`] maker for `map_err`.
pub(crate) fn io_err(
    step: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { step, path, source }
}
