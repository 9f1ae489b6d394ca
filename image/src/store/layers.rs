//! Unpacked layers: each made once, under its own lock, in `tmp/`, and renamed into
//! `layers/` only when complete and verified.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::DirBuilderExt;

use nix::fcntl::{FlockArg, OFlag};
use nix::sys::stat::Mode;
use serde::{Deserialize, Serialize};

use super::Store;
use crate::digest::Digest;
use crate::error::{io_err, Result};

/// What the store knows of an unpacked layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub diff_id: Digest,
    /// Bytes of its regular files.
    pub size: u64,
    pub entries: u64,
}

/// Whether [`Store::make_layer`] unpacked the layer or found it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Made {
    Unpacked,
    Present,
}

impl From<Made> for crate::progress::LayerDone {
    fn from(made: Made) -> Self {
        match made {
            Made::Unpacked => crate::progress::LayerDone::Unpacked,
            Made::Present => crate::progress::LayerDone::Present,
        }
    }
}

impl Store {
    pub fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_path(diff_id).is_dir()
    }

    pub fn layer_info(&self, diff_id: &Digest) -> Result<LayerInfo> {
        let path = self.layer_root(diff_id).join("layer.json");
        let text = std::fs::read(&path).map_err(io_err("read layer info", &path))?;
        serde_json::from_slice(&text).map_err(|e| io_err("parse layer info", &path)(e.into()))
    }

    /// Makes layer `diff_id` unless it is there: `produce` fills an empty directory (and checks
    /// what it unpacked); on error nothing is left. A concurrent maker of the same layer is
    /// waited for, and its layer used.
    pub(crate) fn make_layer(
        &self,
        diff_id: &Digest,
        produce: impl FnOnce(BorrowedFd<'_>) -> Result<(u64, u64)>,
    ) -> Result<(LayerInfo, Made)> {
        if self.has_layer(diff_id) {
            return Ok((self.layer_info(diff_id)?, Made::Present));
        }
        let _lock = self.lock(
            &format!("locks/layer-{}", diff_id.hex()),
            FlockArg::LockExclusive,
        )?;
        if self.has_layer(diff_id) {
            return Ok((self.layer_info(diff_id)?, Made::Present));
        }
        let tmp = self.tmp_path("layer");
        let cleanup = Cleanup(tmp.clone());
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .map_err(io_err("create layer directory", &tmp))?;
        let diff = tmp.join("diff");
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&diff)
            .map_err(io_err("create layer directory", &diff))?;
        let fd = nix::fcntl::open(
            &diff,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| io_err("open layer directory", &diff)(errno.into()))?;
        let (size, entries) = produce(fd.as_fd())?;
        drop(fd);
        let info = LayerInfo {
            diff_id: diff_id.clone(),
            size,
            entries,
        };
        let json =
            serde_json::to_vec(&info).map_err(|e| io_err("write layer info", &tmp)(e.into()))?;
        std::fs::write(tmp.join("layer.json"), json).map_err(io_err("write layer info", &tmp))?;
        let to = self.layer_root(diff_id);
        std::fs::rename(&tmp, &to).map_err(io_err("store layer", &to))?;
        std::mem::forget(cleanup);
        Ok((info, Made::Unpacked))
    }
}

/// Removes a half-made layer directory when its maker fails.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
