//! The image store: content-addressed blobs, one directory per unpacked layer, and the
//! records that name images.
//!
//! ```text
//! STORE/blobs/sha256/HEX     manifests, indexes, configurations, layer blobs; a blob is
//!                            written to tmp/, checked against its digest, then renamed in
//! STORE/layers/HEX/diff/     a layer unpacked (HEX: its diff ID, the sha256 of its tar), the
//!                            overlay lower directory of every container on an image with it
//! STORE/layers/HEX/layer.json  its size; the directory appears, by rename, only complete
//! STORE/images.json          the images: names, manifest, configuration, layers
//! STORE/tmp/                 blobs and layers being made
//! STORE/locks/               one lock file per layer being made (flock)
//! STORE/gc.lock              shared by pulls and loads, exclusive for removals
//! STORE/images.lock          held around each change of images.json
//! ```
//!
//! Concurrency: a layer is made under its own lock, so two pulls of one image unpack each
//! layer once; the second waits and then uses it. Pulls and loads hold `gc.lock` shared for
//! their whole run and removals (`rmi`, `prune`) hold it exclusive, so nothing is removed
//! that a running pull has made but not yet recorded; everything left in `tmp/` when a
//! removal holds it is from a pull that was killed, and goes.

mod blobs;
mod gc;
pub(crate) mod ingest;
pub(crate) mod layers;
mod records;
#[cfg(test)]
mod tests;
mod view;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::digest::Digest;
use crate::error::{io_err, Result};

pub use gc::{Freed, InUse, Pruned, Removed};
pub use layers::LayerInfo;
pub use records::{ImageRecord, LayerRecord, NameRecord};
pub use view::Image;

/// Where the store is when neither `--store` nor `$BOX_STORE` says otherwise.
pub const DEFAULT_STORE: &str = "/var/lib/box";

/// An open image store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// `flag`, else `$BOX_STORE`, else `/var/lib/box`.
    pub fn default_root(flag: Option<PathBuf>) -> PathBuf {
        flag.or_else(|| std::env::var_os("BOX_STORE").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
    }

    /// Opens the store at `root`, creating its directories (0700: layers keep their files'
    /// owners and modes, so the store itself is what keeps other users out).
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        // Absolute: layer directories become overlay options, which must name host paths
        // whatever the container's working directory.
        let root = root.into();
        let root = std::path::absolute(&root).map_err(io_err("resolve", root.clone()))?;
        let store = Store { root };
        // `locks/` is made last: with it, the store is whole, and opening it (on every `box
        // up` of an image) costs one stat rather than a mkdir and a stat per directory.
        if store.root.join("locks").is_dir() {
            return Ok(store);
        }
        for dir in [
            store.root.clone(),
            store.root.join("blobs"),
            store.root.join("blobs/sha256"),
            store.root.join("layers"),
            store.root.join("tmp"),
            store.root.join("locks"),
        ] {
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(io_err("create store directory", dir)(e)),
            }
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    /// The directory holding layer `diff_id` (its `diff/` is the layer's content).
    pub(crate) fn layer_root(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers").join(diff_id.hex())
    }

    /// The unpacked content of layer `diff_id`: an overlay lower directory.
    pub fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.layer_root(diff_id).join("diff")
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh name in `tmp/` for something `what` is making.
    pub(crate) fn tmp_path(&self, what: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        self.tmp_dir()
            .join(format!("{what}-{}-{n}", std::process::id()))
    }

    /// Holds `gc.lock` shared: nothing this process makes is removed while it lives. Pulls
    /// and loads take it; so must whoever resolves an image for a container until the
    /// container's record names the image (see `rmi`).
    pub fn hold(&self) -> Result<Flock<File>> {
        self.lock("gc.lock", FlockArg::LockShared)
    }

    pub(crate) fn lock(&self, name: &str, how: FlockArg) -> Result<Flock<File>> {
        let path = self.root.join(name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io_err("open lock", &path))?;
        Flock::lock(file, how).map_err(|(_, errno)| crate::error::Error::Io {
            step: "lock",
            path,
            source: std::io::Error::from(errno),
        })
    }
}
