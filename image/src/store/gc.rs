//! Removing images (`box rmi`) and what no image needs any more (`box prune`), under
//! `gc.lock` held exclusive: no pull or load runs meanwhile, and no container is being
//! created on an image (they hold it shared until their record names the image).

use std::collections::HashSet;

use nix::fcntl::FlockArg;

use super::records::{ImageRecord, Records};
use super::Store;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

/// Answers "which container uses this image?", from the containers' records.
pub type InUse<'a> = &'a dyn Fn(&ImageRecord) -> Option<String>;

/// What `rmi` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Names taken off the image.
    pub untagged: Vec<String>,
    /// The image's ID (configuration digest), when the image itself went.
    pub deleted: Option<Digest>,
    pub freed: Freed,
}

/// What `prune` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Unnamed images no container used.
    pub images: Vec<Digest>,
    pub freed: Freed,
}

/// What left the disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freed {
    pub layers: usize,
    pub blobs: usize,
    /// Bytes of layer files and blobs.
    pub bytes: u64,
}

impl Store {
    /// Removes the name `query` gives, or the image itself when `query` is its ID or digest
    /// (an image with several names then needs `force`), and then whatever no image needs.
    /// Refused while a container uses the image.
    pub fn remove(&self, query: &str, force: bool, in_use: InUse<'_>) -> Result<Removed> {
        let _gc = self.lock("gc.lock", FlockArg::LockExclusive)?;
        let by_name = Reference::parse(query).ok().map(|r| r.to_string());
        let mut removed = self.update_records(|records| {
            let i = records.find(query)?;
            let image = &records.images[i];
            if let Some(container) = in_use(image) {
                return Err(Error::InUse {
                    image: query.into(),
                    container,
                });
            }
            let name_hit = by_name
                .as_ref()
                .filter(|n| image.names.iter().any(|r| &r.reference == *n));
            let mut removed = Removed::default();
            match name_hit {
                Some(name) => {
                    records.images[i].names.retain(|r| &r.reference != name);
                    removed.untagged.push(name.clone());
                }
                None if image.names.len() > 1 && !force => {
                    return Err(Error::SeveralNames {
                        image: query.into(),
                        names: image
                            .names
                            .iter()
                            .map(|n| n.reference.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                None => {
                    removed.untagged = records.images[i]
                        .names
                        .drain(..)
                        .map(|n| n.reference)
                        .collect()
                }
            }
            if records.images[i].names.is_empty() {
                removed.deleted = Some(records.images.remove(i).id);
            }
            Ok(removed)
        })?;
        removed.freed = self.sweep(&self.records()?)?;
        Ok(removed)
    }

    /// Removes unnamed images no container uses, then every layer and blob no image needs,
    /// and whatever killed pulls left in `tmp/`.
    pub fn prune(&self, in_use: InUse<'_>) -> Result<Pruned> {
        let _gc = self.lock("gc.lock", FlockArg::LockExclusive)?;
        let images = self.update_records(|records| {
            let mut gone = Vec::new();
            records.images.retain(|img| {
                let keep = !img.names.is_empty() || in_use(img).is_some();
                if !keep {
                    gone.push(img.id.clone());
                }
                keep
            });
            Ok(gone)
        })?;
        let freed = self.sweep(&self.records()?)?;
        Ok(Pruned { images, freed })
    }

    /// Deletes layers, blobs, layer locks and temporary files that `records` does not need.
    /// Caller holds `gc.lock` exclusive.
    fn sweep(&self, records: &Records) -> Result<Freed> {
        let mut layers = HashSet::new();
        let mut blobs = HashSet::new();
        for img in &records.images {
            blobs.insert(img.manifest.hex().to_string());
            blobs.insert(img.id.hex().to_string());
            blobs.extend(img.names.iter().map(|n| n.repo_digest.hex().to_string()));
            for l in &img.layers {
                blobs.insert(l.blob.hex().to_string());
                layers.insert(l.diff_id.hex().to_string());
            }
        }
        let mut freed = Freed::default();
        for name in list(&self.root.join("layers"))? {
            if !layers.contains(&name) {
                let path = self.root.join("layers").join(&name);
                freed.bytes += self.layer_info_size(&name);
                remove_tree(&path)?;
                let _ = std::fs::remove_file(self.root.join("locks").join(format!("layer-{name}")));
                freed.layers += 1;
            }
        }
        for name in list(&self.root.join("blobs/sha256"))? {
            if !blobs.contains(&name) {
                let path = self.root.join("blobs/sha256").join(&name);
                freed.bytes += std::fs::symlink_metadata(&path)
                    .map(|m| m.len())
                    .unwrap_or(0);
                std::fs::remove_file(&path).map_err(crate::error::io_err("remove blob", &path))?;
                freed.blobs += 1;
            }
        }
        for name in list(&self.tmp_dir())? {
            remove_tree(&self.tmp_dir().join(name))?;
        }
        Ok(freed)
    }

    fn layer_info_size(&self, hex: &str) -> u64 {
        Digest::from_hex(hex)
            .and_then(|d| self.layer_info(&d).ok())
            .map_or(0, |i| i.size)
    }
}

fn list(dir: &std::path::Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(crate::error::io_err("list", dir))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect())
}

fn remove_tree(path: &std::path::Path) -> Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(crate::error::io_err("remove", path))
}
