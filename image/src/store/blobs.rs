//! Blobs: written to `tmp/`, checked against their digest, renamed into `blobs/sha256/`; read
//! back checked again, and a blob that no longer matches is removed, never used.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use super::Store;
use crate::digest::Digest;
use crate::error::{io_err, Error, Result};

/// A blob being written to `tmp/`; removed on drop unless committed.
pub(crate) struct BlobTmp {
    path: PathBuf,
    pub(crate) file: File,
    committed: bool,
}

impl BlobTmp {
    /// Moves the (checked) blob into place. Another process may have put the same content
    /// there meanwhile: the rename replaces it with identical bytes.
    pub(crate) fn commit(mut self, store: &Store, digest: &Digest) -> Result<()> {
        let to = store.blob_path(digest);
        std::fs::rename(&self.path, &to).map_err(io_err("store blob", &to))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for BlobTmp {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Store {
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// A new temporary blob file.
    pub(crate) fn blob_tmp(&self) -> Result<BlobTmp> {
        let path = self.tmp_path("blob");
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io_err("create blob", &path))?;
        Ok(BlobTmp {
            path,
            file,
            committed: false,
        })
    }

    /// Stores `bytes` as blob `digest`, after checking that they are.
    pub(crate) fn put_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        let actual = Digest::of(bytes);
        if &actual != digest {
            return Err(Error::Verify {
                what: "blob",
                digest: digest.clone(),
                reason: format!("content has digest {actual}"),
            });
        }
        if self.has_blob(digest) {
            return Ok(());
        }
        let mut tmp = self.blob_tmp()?;
        tmp.file
            .write_all(bytes)
            .map_err(io_err("write blob", &tmp.path))?;
        tmp.commit(self, digest)
    }

    /// Reads a small blob (a manifest, a configuration) whole, checking it; a blob that no
    /// longer matches its digest is removed. `None` when the store has no such blob.
    pub(crate) fn read_blob(&self, digest: &Digest, max: u64) -> Result<Option<Vec<u8>>> {
        let path = self.blob_path(digest);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("open blob", &path)(e)),
        };
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err("read blob", &path))?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            let _ = std::fs::remove_file(&path);
            return Err(Error::Verify {
                what: "stored blob",
                digest: digest.clone(),
                reason: "content no longer matches (removed from the store)".into(),
            });
        }
        Ok(Some(bytes))
    }

    /// Opens a stored blob for streaming; the reader checks it.
    pub(crate) fn open_blob(&self, digest: &Digest) -> Result<Option<File>> {
        let path = self.blob_path(digest);
        match File::open(&path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("open blob", &path)(e)),
        }
    }

    /// Removes a blob found corrupt.
    pub(crate) fn drop_blob(&self, digest: &Digest) {
        let _ = std::fs::remove_file(self.blob_path(digest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_checked_on_the_way_in_and_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s")).unwrap();
        let d = Digest::of(b"hello");
        assert!(matches!(
            store.put_blob(&d, b"other"),
            Err(Error::Verify { .. })
        ));
        assert!(!store.has_blob(&d));
        store.put_blob(&d, b"hello").unwrap();
        assert_eq!(store.read_blob(&d, 100).unwrap().unwrap(), b"hello");
        std::fs::write(store.blob_path(&d), b"hellO").unwrap();
        assert!(matches!(
            store.read_blob(&d, 100),
            Err(Error::Verify { .. })
        ));
        assert!(!store.has_blob(&d), "a corrupt blob is removed");
        assert_eq!(store.read_blob(&d, 100).unwrap(), None);
        let leftovers = std::fs::read_dir(store.tmp_dir()).unwrap().count();
        assert_eq!(leftovers, 0);
    }
}
