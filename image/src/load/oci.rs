//! An OCI image layout: `index.json` lists images (manifests or indexes); blobs live in
//! `blobs/sha256/HEX`. An image's name is its `io.containerd.image.name` annotation
//! (containerd, buildx, Docker 25's `docker save`), else `org.opencontainers.image.ref.name`
//! when that is a full reference; a bare tag (`latest`, as skopeo writes) names nothing.

use oci_spec::image::{Descriptor, ImageIndex};

use super::{read_blob, source::Source, ArchiveImage, ArchiveLayer, LoadOptions, Loaded};
use crate::config::{ImageConfig, CONFIG_MAX};
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::platform;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::registry::MANIFEST_MAX;
use crate::store::Store;

pub(super) fn load(
    store: &Store,
    source: &Source,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Vec<Loaded>> {
    let index: ImageIndex = source.read_toc("index.json")?;
    let mut loaded = Vec::new();
    for desc in index.manifests() {
        let names = name_of(desc).into_iter().collect();
        let image = resolve(store, source, desc, names, opts)?;
        loaded.push(store.load_image(source, image, opts, progress)?);
    }
    Ok(loaded)
}

/// The full reference an entry of `index.json` names, if any.
fn name_of(desc: &Descriptor) -> Option<String> {
    let annotations = desc.annotations().as_ref()?;
    let candidates = [
        annotations.get("io.containerd.image.name"),
        annotations
            .get("org.opencontainers.image.ref.name")
            .filter(|n| n.contains([':', '/', '@'])),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|n| Reference::parse(n).ok())
        .map(|r| r.to_string())
}

/// Follows `desc` (through indexes, to this platform) to an image manifest and reads it.
fn resolve(
    store: &Store,
    source: &Source,
    desc: &Descriptor,
    names: Vec<String>,
    opts: &LoadOptions,
) -> Result<ArchiveImage> {
    let shown = names
        .first()
        .cloned()
        .unwrap_or_else(|| desc.digest().to_string());
    let bad = |reason: String| Error::Manifest {
        image: shown.clone(),
        reason,
    };
    let repo_digest = manifest::digest_of(desc).map_err(&bad)?;
    let mut digest = repo_digest.clone();
    for _ in 0..4 {
        let bytes = read_blob(source, &digest, MANIFEST_MAX)?;
        match manifest::parse(&bytes, Some(desc.media_type().as_ref())).map_err(&bad)? {
            Manifest::Index(index) => {
                let chosen = platform::select(&index, &opts.platform).map_err(|offered| {
                    Error::Platform {
                        image: shown.clone(),
                        wanted: opts.platform.to_string(),
                        offered,
                    }
                })?;
                store.put_blob(&digest, &bytes)?;
                digest = manifest::digest_of(chosen).map_err(&bad)?;
            }
            Manifest::Image(m) => {
                let (config_digest, _, layers) = manifest::image_parts(&m).map_err(&bad)?;
                let config_bytes = read_blob(source, &config_digest, CONFIG_MAX)?;
                let config = ImageConfig::parse(&config_bytes).map_err(|source| Error::Config {
                    image: shown.clone(),
                    source,
                })?;
                if config.diff_ids.len() != layers.len() {
                    return Err(bad(
                        "the manifest and the configuration disagree on the number of layers"
                            .into(),
                    ));
                }
                let layers = layers
                    .into_iter()
                    .zip(&config.diff_ids)
                    .map(|(l, diff_id)| ArchiveLayer {
                        file: format!("blobs/sha256/{}", l.digest.hex()),
                        blob: Some(l.digest),
                        size: Some(l.size),
                        diff_id: diff_id.clone(),
                    })
                    .collect();
                store.put_blob(&digest, &bytes)?;
                store.put_blob(&config_digest, &config_bytes)?;
                return Ok(ArchiveImage {
                    manifest: digest,
                    repo_digest,
                    config_digest,
                    config,
                    layers,
                    names,
                });
            }
        }
    }
    Err(bad("indexes nested too deep".into()))
}
