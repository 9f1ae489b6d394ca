//! Which container uses an image: `box rmi` and `box prune` must not take an image from
//! under one. A container on an image records it in its state as
//!
//! ```json
//! "image": { "reference": "docker.io/library/busybox:latest", "manifest": "sha256:…" }
//! ```
//!
//! (written by `box up`; containers on a directory have none).
//! Only that key of each `state.json` is read here, so the rest of the state may change
//! freely.

use std::path::Path;

use box_image::ImageRecord;
use serde::Deserialize;

use crate::name::Name;
use crate::state::Root;

/// The image a container's record names.
#[derive(Debug, Clone, Deserialize)]
pub struct UsedImage {
    pub reference: Option<String>,
    pub manifest: Option<String>,
}

#[derive(Deserialize)]
struct Partial {
    #[serde(default)]
    image: Option<UsedImage>,
}

/// The containers of a state root, and the image each records.
pub struct Containers {
    used: Vec<(Name, UsedImage)>,
}

impl Containers {
    pub fn new(root: &Root) -> Containers {
        let used = root
            .names()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| {
                let image = recorded(&root.dir(&name).join("state.json"))?;
                Some((name, image))
            })
            .collect();
        Containers { used }
    }

    /// The first container that uses `image`, by its manifest digest or one of its names.
    pub fn using(&self, image: &ImageRecord) -> Option<String> {
        let manifest = image.manifest.to_string();
        self.used
            .iter()
            .find(|(_, used)| {
                used.manifest.as_deref() == Some(manifest.as_str())
                    || used
                        .reference
                        .as_deref()
                        .is_some_and(|r| image.names.iter().any(|n| n.reference == r))
            })
            .map(|(name, _)| name.to_string())
    }
}

/// The image key of a `state.json`. A writer replaces the file by removing it and renaming
/// the new one in; a reader that falls in between looks again.
fn recorded(path: &Path) -> Option<UsedImage> {
    for _ in 0..50 {
        match std::fs::read(path) {
            Ok(text) => return serde_json::from_slice::<Partial>(&text).ok()?.image,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(_) => return None,
        }
    }
    None
}
