//! `box load FILE`: images from an OCI image layout (a directory, or a tar of one, as
//! `skopeo copy … oci-archive:` and `docker buildx --output type=oci` write) or a
//! `docker save` archive (both its legacy form and Docker 25's, which is also an OCI
//! layout). Compressed tars are read too. Every blob is checked against its digest and every
//! layer against the configuration's diff IDs, as in a pull.

mod docker;
mod oci;
mod source;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::progress::{LayerDone, Progress};
use crate::store::ingest::LayerSpec;
use crate::store::{ImageRecord, LayerRecord, NameRecord, Store};
use crate::unpack::UnpackOptions;

use source::Source;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The platform to choose from an index (default: this host's).
    pub platform: Platform,
    pub unpack: UnpackOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            platform: Platform::host(),
            unpack: UnpackOptions::default(),
        }
    }
}

/// One image loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub record: ImageRecord,
    /// The names it was recorded under (none: the archive named it not).
    pub names: Vec<String>,
}

/// An image found in an archive, before its layers are unpacked.
struct ArchiveImage {
    /// The manifest's digest (made up for a legacy `docker save` image, which has none).
    manifest: Digest,
    /// What the names resolved to: the manifest, or the index it was chosen from.
    repo_digest: Digest,
    config_digest: Digest,
    config: crate::config::ImageConfig,
    layers: Vec<ArchiveLayer>,
    /// Full references.
    names: Vec<String>,
}

/// A layer of an image in an archive: its file there, and what it must hash to.
struct ArchiveLayer {
    file: String,
    blob: Option<Digest>,
    size: Option<u64>,
    diff_id: Digest,
}

impl Store {
    /// Loads every image of the archive at `path`.
    pub fn load(
        &self,
        path: &Path,
        opts: &LoadOptions,
        progress: &dyn Progress,
    ) -> Result<Vec<Loaded>> {
        let _hold = self.hold()?;
        let source = Source::open(path, self)?;
        let images = if source.open_file("index.json")?.is_some() {
            oci::load(self, &source, opts, progress)?
        } else if source.open_file("manifest.json")?.is_some() {
            docker::load(self, &source, opts, progress)?
        } else {
            return Err(Error::Archive {
                path: path.into(),
                reason: "neither an OCI image layout (index.json) nor a docker save archive (manifest.json)".into(),
            });
        };
        if images.is_empty() {
            return Err(Error::Archive {
                path: path.into(),
                reason: "holds no image".into(),
            });
        }
        Ok(images)
    }

    /// Unpacks an archive image's layers (each checked) and records it under its names.
    fn load_image(
        &self,
        source: &Source,
        image: ArchiveImage,
        opts: &LoadOptions,
        progress: &dyn Progress,
    ) -> Result<Loaded> {
        progress.resolved(
            &source.path().display().to_string(),
            &image.manifest,
            image.layers.len(),
        );
        let mut layers = Vec::with_capacity(image.layers.len());
        let mut size = 0;
        for layer in &image.layers {
            let shown = layer.blob.clone().unwrap_or_else(|| layer.diff_id.clone());
            let spec = LayerSpec {
                blob: layer.blob.clone(),
                size: layer.size,
                diff_id: layer.diff_id.clone(),
            };
            if !self.has_layer(&layer.diff_id) {
                progress.layer_started(&shown, layer.size);
            }
            let open = || -> Result<Box<dyn Read>> {
                let (reader, _) = source
                    .open_file(&layer.file)?
                    .ok_or_else(|| Error::Archive {
                        path: source.path().into(),
                        reason: format!("the layer {} is missing", layer.file),
                    })?;
                Ok(reader)
            };
            let done = self
                .ingest_layer(&spec, open, true, &opts.unpack)
                .inspect_err(|_| {
                    progress.layer_done(&shown, LayerDone::Failed);
                })?;
            progress.layer_done(&shown, done.made.into());
            size += done.info.size;
            layers.push(LayerRecord {
                blob: done.blob,
                diff_id: layer.diff_id.clone(),
            });
        }
        let record = ImageRecord {
            manifest: image.manifest.clone(),
            id: image.config_digest.clone(),
            layers,
            names: Vec::new(),
            size,
            config: image.config.clone(),
        };
        self.update_records(|r| {
            if image.names.is_empty() {
                r.add(record.clone(), None);
            }
            for name in &image.names {
                r.add(
                    record.clone(),
                    Some(NameRecord {
                        reference: name.clone(),
                        repo_digest: image.repo_digest.clone(),
                    }),
                );
            }
            Ok(())
        })?;
        Ok(Loaded {
            record,
            names: image.names,
        })
    }
}

/// A blob of an OCI layout (`blobs/sha256/HEX`), read whole and checked.
fn read_blob(source: &Source, digest: &Digest, max: u64) -> Result<Vec<u8>> {
    let name = format!("blobs/sha256/{}", digest.hex());
    let bytes = source
        .read_small(&name, max)?
        .ok_or_else(|| Error::Archive {
            path: source.path().into(),
            reason: format!("blob {digest} is missing"),
        })?;
    let actual = Digest::of(&bytes);
    if &actual != digest {
        return Err(Error::Verify {
            what: "blob",
            digest: digest.clone(),
            reason: format!("content has digest {actual}"),
        });
    }
    Ok(bytes)
}
