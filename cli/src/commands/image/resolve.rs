//! The image of a container (`image = "…"` in box.toml), found in the store and held there
//! until the container's record names it. `box up` pulls an image the store lacks, as `docker
//! run` does (through `box-fetch`, with progress on a terminal); `box validate` does not.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use box_cli::config::{Resolved, UsedImage};
use box_image::{Reference, Store};

/// Finds `reference` in the store (`--store`, `$BOX_STORE`, else /var/lib/box), pulling it
/// first when missing and `pull` is set. An `Err` is the message for the `image` key.
pub fn resolve(store: Option<PathBuf>, reference: &str, pull: bool) -> Result<Resolved, String> {
    let root = Store::default_root(store.clone());
    let opened = Store::open(&root).map_err(|e| format!("open the image store: {e}"))?;
    // Held before the lookup: an rmi that starts now waits until the record names the image.
    let hold = opened.hold().map_err(|e| e.to_string())?;
    let image = match opened.image(reference) {
        Err(box_image::Error::NoSuchImage(_)) if pull => {
            run_pull(store, reference)?;
            opened.image(reference)
        }
        Err(box_image::Error::NoSuchImage(_)) => {
            return Err(format!(
                "no such image in the store {}: `box up` pulls it, or run `box pull {reference}`",
                root.display()
            ))
        }
        other => other,
    }
    .map_err(|e| e.to_string())?;
    let name = Reference::parse(reference).ok().map(|r| r.to_string());
    let used = UsedImage {
        given: Some(reference.to_string()),
        reference: name.filter(|n| image.record.names.iter().any(|r| r.reference == *n)),
        manifest: image.record.manifest.to_string(),
        stop_signal: None, // the plan's, set by the config
    };
    Ok(Resolved {
        image,
        used,
        hold: Some(Arc::new(hold)),
    })
}

/// `box-fetch pull REFERENCE`: progress on stderr when it is a terminal; what it prints on
/// stdout (the full reference) is not `box up`'s to print.
fn run_pull(store: Option<PathBuf>, reference: &str) -> Result<(), String> {
    eprintln!("box: {reference}: not in the store, pulling it");
    let helper = super::fetch_helper();
    let mut cmd = Command::new(&helper);
    if let Some(store) = store {
        cmd.arg("--store").arg(store);
    }
    let status = cmd
        .args(["pull", "--", reference])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| {
            format!(
                "run {}: {e} (box-fetch is installed next to box)",
                helper.display()
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pulling {reference} failed (see above)"))
    }
}
