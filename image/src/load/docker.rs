//! A legacy `docker save` archive: `manifest.json` lists each image's configuration file,
//! its names (`RepoTags`) and its layers (`ID/layer.tar`, uncompressed tars). It has no
//! registry manifest, so box writes one (OCI, uncompressed layers) to identify the image.

use serde::Deserialize;

use super::{source::Source, ArchiveImage, ArchiveLayer, LoadOptions, Loaded};
use crate::config::{ImageConfig, CONFIG_MAX};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{DOCKER_CONFIG, OCI_MANIFEST};
use crate::progress::Progress;
use crate::reference::Reference;
use crate::store::Store;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub(super) fn load(
    store: &Store,
    source: &Source,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Vec<Loaded>> {
    let entries: Vec<Entry> = source.read_toc("manifest.json")?;
    let mut loaded = Vec::new();
    for entry in entries {
        let names = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| Reference::parse(t).map(|r| r.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let image = image(store, source, &entry.config, &entry.layers, names)?;
        loaded.push(store.load_image(source, image, opts, progress)?);
    }
    Ok(loaded)
}

/// The digest a file name states: `blobs/sha256/HEX` (Docker 25) or `HEX.json` / `HEX/…`.
fn named_digest(file: &str) -> Option<Digest> {
    let last = file.trim_start_matches("blobs/sha256/");
    Digest::from_hex(last.split(['/', '.']).next()?)
        .filter(|_| file.starts_with("blobs/sha256/") || file.ends_with(".json"))
}

fn image(
    store: &Store,
    source: &Source,
    config_file: &str,
    layer_files: &[String],
    names: Vec<String>,
) -> Result<ArchiveImage> {
    let shown = names
        .first()
        .cloned()
        .unwrap_or_else(|| config_file.to_string());
    let bad = |reason: String| Error::Manifest {
        image: shown.clone(),
        reason,
    };
    let config_bytes = source
        .read_small(config_file, CONFIG_MAX)?
        .ok_or_else(|| bad(format!("its configuration {config_file} is missing")))?;
    let config_digest = Digest::of(&config_bytes);
    if let Some(named) = named_digest(config_file) {
        if named != config_digest {
            return Err(Error::Verify {
                what: "configuration",
                digest: named,
                reason: format!("content has digest {config_digest}"),
            });
        }
    }
    let config = ImageConfig::parse(&config_bytes).map_err(|source| Error::Config {
        image: shown.clone(),
        source,
    })?;
    if config.diff_ids.len() != layer_files.len() {
        return Err(bad(
            "manifest.json and the configuration disagree on the number of layers".into(),
        ));
    }
    let mut layers = Vec::with_capacity(layer_files.len());
    let mut descriptors = Vec::with_capacity(layer_files.len());
    for (file, diff_id) in layer_files.iter().zip(&config.diff_ids) {
        let size = source.open_file(file)?.map(|(_, size)| size);
        // Docker 25 names layers by their blob's digest; a legacy layer.tar is the
        // uncompressed tar, whose digest is the diff ID.
        let blob = match file.starts_with("blobs/sha256/") {
            true => named_digest(file),
            false => Some(diff_id.clone()),
        };
        let blob =
            blob.ok_or_else(|| bad(format!("layer file {file} is not named by a digest")))?;
        descriptors.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": blob.to_string(),
            "size": size.unwrap_or(0),
        }));
        layers.push(ArchiveLayer {
            file: file.clone(),
            blob: Some(blob),
            size,
            diff_id: diff_id.clone(),
        });
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": DOCKER_CONFIG, "digest": config_digest.to_string(), "size": config_bytes.len() },
        "layers": descriptors,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| bad(e.to_string()))?;
    let manifest_digest = Digest::of(&manifest_bytes);
    store.put_blob(&manifest_digest, &manifest_bytes)?;
    store.put_blob(&config_digest, &config_bytes)?;
    Ok(ArchiveImage {
        manifest: manifest_digest.clone(),
        repo_digest: manifest_digest,
        config_digest,
        config,
        layers,
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_from_file_names() {
        let hex = "a".repeat(64);
        assert_eq!(
            named_digest(&format!("blobs/sha256/{hex}")),
            Digest::from_hex(&hex)
        );
        assert_eq!(named_digest(&format!("{hex}.json")), Digest::from_hex(&hex));
        assert_eq!(named_digest(&format!("{hex}/layer.tar")), None);
        assert_eq!(named_digest("config.json"), None);
    }
}
