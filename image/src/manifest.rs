//! Manifests as registries and archives serve them: an image index or Docker manifest list
//! (one manifest per platform), or an image manifest (OCI, or Docker's v2 schema 2: the same
//! shape). Docker's v1 schema is refused, as Docker itself now refuses it.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::digest::Digest;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// A parsed manifest of either kind.
#[derive(Debug)]
pub enum Manifest {
    Index(Box<ImageIndex>),
    Image(Box<ImageManifest>),
}

/// A layer as an image manifest lists it.
#[derive(Debug, Clone)]
pub struct LayerDesc {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

/// Parses `bytes` as an index or an image manifest, by its `mediaType` field, else the
/// transport's content type, else its shape.
pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        layers: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
    if probe.schema_version == Some(1) {
        return Err("a Docker v1 schema manifest (deprecated, unsupported: push the image again with a current tool)".into());
    }
    let kind = probe.media_type.as_deref().or(content_type).unwrap_or("");
    let is_index = match kind {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        _ if probe.manifests.is_some() => true,
        _ if probe.layers.is_some() => false,
        other => return Err(format!("unsupported manifest type {other:?}")),
    };
    if is_index {
        serde_json::from_slice(bytes)
            .map(Manifest::Index)
            .map_err(|e| format!("invalid image index: {e}"))
    } else {
        serde_json::from_slice(bytes)
            .map(Manifest::Image)
            .map_err(|e| format!("invalid image manifest: {e}"))
    }
}

/// A descriptor's digest, checked (box uses it as a file name).
pub fn digest_of(desc: &Descriptor) -> Result<Digest, String> {
    Digest::parse(desc.digest().as_ref()).map_err(|e| e.to_string())
}

/// The configuration's digest and size, and the layers, of an image manifest; layers of a
/// kind box cannot unpack are refused.
pub fn image_parts(m: &ImageManifest) -> Result<(Digest, u64, Vec<LayerDesc>), String> {
    let config = m.config();
    let config_type = config.media_type().to_string();
    if config_type != OCI_CONFIG && config_type != DOCKER_CONFIG {
        return Err(format!(
            "not a container image: its configuration is {config_type:?} (an artifact?)"
        ));
    }
    let mut layers = Vec::with_capacity(m.layers().len());
    for l in m.layers() {
        let media_type = l.media_type().to_string();
        let supported = media_type.starts_with("application/vnd.oci.image.layer.")
            || media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip"
            || media_type == "application/vnd.docker.image.rootfs.diff.tar";
        if !supported {
            return Err(format!(
                "layer {} has media type {media_type:?}, which box cannot unpack",
                l.digest()
            ));
        }
        if l.urls().as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(format!(
                "layer {} is a foreign layer (fetched from URLs)",
                l.digest()
            ));
        }
        layers.push(LayerDesc {
            digest: digest_of(l)?,
            size: l.size(),
            media_type,
        });
    }
    Ok((digest_of(config)?, config.size(), layers))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest(config_type: &str, layer_type: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}",
            "config":{{"mediaType":"{config_type}","size":2,"digest":"{D}"}},
            "layers":[{{"mediaType":"{layer_type}","size":7,"digest":"{D}"}}]}}"#
        )
    }

    #[test]
    fn docker_and_oci_manifests_parse() {
        let text = manifest(
            DOCKER_CONFIG,
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        );
        let Ok(Manifest::Image(m)) = parse(text.as_bytes(), None) else {
            panic!("not an image manifest")
        };
        let (config, size, layers) = image_parts(&m).unwrap();
        assert_eq!((config.to_string().as_str(), size), (D, 2));
        assert_eq!(layers[0].size, 7);
        let zstd = manifest(OCI_CONFIG, "application/vnd.oci.image.layer.v1.tar+zstd");
        let Ok(Manifest::Image(m)) = parse(zstd.as_bytes(), None) else {
            panic!()
        };
        assert!(image_parts(&m).is_ok());
    }

    #[test]
    fn indexes_are_told_by_type_or_shape() {
        let list = format!(r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[]}}"#);
        assert!(matches!(
            parse(list.as_bytes(), None),
            Ok(Manifest::Index(_))
        ));
        let bare = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            parse(bare.as_bytes(), None),
            Ok(Manifest::Index(_))
        ));
    }

    #[test]
    fn what_box_cannot_run_is_refused() {
        let v1 = r#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert!(parse(v1.as_bytes(), None)
            .unwrap_err()
            .contains("v1 schema"));
        let art = manifest(
            "application/vnd.example+json",
            "application/vnd.oci.image.layer.v1.tar",
        );
        let Ok(Manifest::Image(m)) = parse(art.as_bytes(), None) else {
            panic!()
        };
        assert!(image_parts(&m)
            .unwrap_err()
            .contains("not a container image"));
        let odd = manifest(OCI_CONFIG, "application/x-helm");
        let Ok(Manifest::Image(m)) = parse(odd.as_bytes(), None) else {
            panic!()
        };
        assert!(image_parts(&m).unwrap_err().contains("cannot unpack"));
        assert!(parse(b"[]", None).is_err());
    }
}
