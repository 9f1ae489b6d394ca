//! The image commands: `box pull`, `box images`, `box rmi`, `box load`, `box prune`, over the
//! image store (`--store`, `$BOX_STORE`, else /var/lib/box) of the `box_image` layer.
//!
//! `pull` and `load` are run by `box-fetch`, the binary next to `box`: the registry client,
//! TLS, decompression and unpacking stay out of the binary that starts containers
//! (docs/images.md, "Weight"). `box` execs it with the same arguments.

mod in_use;
mod resolve;
mod table;

pub use resolve::resolve;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use anyhow::{Context, Result};
use box_cli::fetch_args::{LoadArgs, PullArgs};
use box_image::Store;
use clap::Subcommand;

use crate::state::Root;

/// Image subcommands, flattened into box's own.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Pull an image from a registry into the store (progress on a terminal).
    Pull(PullArgs),
    /// List the images in the store.
    Images {
        /// `table` (default) or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Remove images: a name untags, an ID removes the image (refused while a container
    /// uses it); layers no other image uses go with it.
    Rmi {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
        /// Remove an image by ID even when several names have it.
        #[arg(short, long)]
        force: bool,
    },
    /// Load images from a `docker save` archive or an OCI image layout (a directory or a
    /// tar, compressed or not).
    Load(LoadArgs),
    /// Remove what no image needs: unnamed images no container uses, unused layers and
    /// blobs, what interrupted pulls left.
    Prune,
}

/// Runs one image command; returns the exit code.
pub fn run(cmd: ImageCommand, store: Option<PathBuf>, root: &Root) -> i32 {
    let open = |store: Option<PathBuf>| {
        Store::open(Store::default_root(store)).context("open the image store")
    };
    let result = match cmd {
        ImageCommand::Pull(args) => Err(fetch(store, args.to_args())),
        ImageCommand::Load(args) => Err(fetch(store, args.to_args())),
        ImageCommand::Images { format } => open(store).and_then(|s| table::images(&s, &format)),
        ImageCommand::Rmi { images, force } => {
            open(store).and_then(|s| rmi(&s, root, &images, force))
        }
        ImageCommand::Prune => open(store).and_then(|s| prune(&s, root)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("box: {e:#}");
            1
        }
    }
}

/// Replaces this process with `box-fetch [--store DIR] ARGS…`, the binary next to this one;
/// returns only when that fails.
fn fetch(store: Option<PathBuf>, args: Vec<OsString>) -> anyhow::Error {
    let helper = fetch_helper();
    let mut cmd = std::process::Command::new(&helper);
    if let Some(store) = store {
        cmd.arg("--store").arg(store);
    }
    let err = cmd.args(args).exec();
    anyhow::anyhow!(
        "run {}: {err} (box-fetch is installed next to box)",
        helper.display()
    )
}

/// `box-fetch`, next to this binary.
fn fetch_helper() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("box"));
    exe.with_file_name("box-fetch")
}

fn rmi(store: &Store, root: &Root, images: &[String], force: bool) -> Result<i32> {
    let users = in_use::Containers::new(root);
    let mut code = 0;
    for image in images {
        match store.remove(image, force, &|record| users.using(record)) {
            Ok(removed) => {
                for name in &removed.untagged {
                    println!("Untagged: {name}");
                }
                if let Some(id) = &removed.deleted {
                    println!("Deleted: {id}");
                }
            }
            Err(e) => {
                eprintln!("box: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn prune(store: &Store, root: &Root) -> Result<i32> {
    let users = in_use::Containers::new(root);
    let pruned = store.prune(&|record| users.using(record))?;
    for id in &pruned.images {
        println!("Deleted: {id}");
    }
    let f = &pruned.freed;
    if f.layers + f.blobs == 0 && pruned.images.is_empty() {
        println!("Nothing to remove");
    } else {
        println!(
            "Removed {} layer(s) and {} blob(s): {} reclaimed",
            f.layers,
            f.blobs,
            box_cli::human::human_size(f.bytes)
        );
    }
    Ok(0)
}
