//! `box-fetch`: brings images into the store, from a registry (`box pull`) or an archive
//! (`box load`). `box` runs it for those two commands (it lives next to `box`), so that the
//! registry client, TLS, decompression and unpacking are not in the binary that starts
//! containers: docs/images.md, "Weight".

#[macro_use]
#[path = "../stdio.rs"]
mod stdio;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use box_cli::fetch_args::FetchCommand;
use box_image::{LoadOptions, Mirror, Platform, PullOptions, Reference, RegistryOptions, Store};
use clap::Parser;

/// Brings images into box's store (run by `box pull` and `box load`).
#[derive(Debug, Parser)]
#[command(name = "box-fetch", version, max_term_width = 100)]
struct Cli {
    /// Where images live (default $BOX_STORE, else /var/lib/box).
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    #[command(subcommand)]
    command: FetchCommand,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Store::open(Store::default_root(cli.store))
        .context("open the image store")
        .and_then(|store| match cli.command {
            FetchCommand::Pull(args) => {
                let registries = Registries {
                    insecure: args.insecure,
                    mirrors: args.mirrors,
                };
                let platform = args.platform.as_deref();
                pull(&store, &args.reference, registries, platform, args.quiet)
            }
            FetchCommand::Load(args) => {
                load(&store, &args.file, args.platform.as_deref(), args.quiet)
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("box: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn platform(text: Option<&str>) -> Result<Platform> {
    match text {
        None => Ok(Platform::host()),
        Some(t) => Platform::parse(t)
            .with_context(|| format!("invalid platform {t:?}: expected OS/ARCH[/VARIANT]")),
    }
}

/// The registry settings of the command line; the environment's are added.
struct Registries {
    insecure: Vec<String>,
    mirrors: Vec<String>,
}

/// A comma-separated list from the environment variable `name`.
fn env_list(name: &str) -> Vec<String> {
    std::env::var_os(name)
        .map(|list| {
            list.to_string_lossy()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn pull(
    store: &Store,
    reference: &str,
    mut given: Registries,
    platform_text: Option<&str>,
    quiet: bool,
) -> Result<()> {
    let reference = Reference::parse(reference)?;
    given.insecure.extend(env_list("BOX_INSECURE_REGISTRIES"));
    given.mirrors.extend(env_list("BOX_REGISTRY_MIRRORS"));
    let mirrors = given
        .mirrors
        .iter()
        .map(|m| Mirror::parse(m).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let opts = PullOptions {
        registry: RegistryOptions {
            insecure: given.insecure,
            auth_file: None,
            mirrors,
        },
        platform: platform(platform_text)?,
        ..PullOptions::default()
    };
    let progress = progress::Bars::new(quiet);
    let pulled = store.pull(&reference, &opts, &progress);
    progress.finish();
    let pulled = pulled?;
    progress.note(&format!("Digest: {}", pulled.record.manifest));
    println!("{}", pulled.reference);
    Ok(())
}

fn load(
    store: &Store,
    file: &std::path::Path,
    platform_text: Option<&str>,
    quiet: bool,
) -> Result<()> {
    let opts = LoadOptions {
        platform: platform(platform_text)?,
        ..LoadOptions::default()
    };
    let progress = progress::Bars::new(quiet);
    let loaded = store.load(file, &opts, &progress);
    progress.finish();
    for image in loaded? {
        match image.names.as_slice() {
            [] => println!("Loaded image ID: {}", image.record.id),
            names => names.iter().for_each(|n| println!("Loaded image: {n}")),
        }
    }
    Ok(())
}
