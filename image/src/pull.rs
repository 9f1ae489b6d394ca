//! `box pull`: a reference to an image in the store. The manifest (an index is resolved to
//! this host's platform), the configuration, then every layer the store lacks, a few at a
//! time, each streamed, checked and unpacked in one pass; the image's record is written last,
//! so an interrupted pull leaves no image that is half there.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::config::{ImageConfig, CONFIG_MAX};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{self, LayerDesc, Manifest};
use crate::platform::{self, Platform};
use crate::progress::{LayerDone, Progress};
use crate::reference::{Reference, DOCKER_HUB};
use crate::registry::{Client, Fetched, RegistryOptions};
use crate::store::ingest::{LayerSpec, Watched};
use crate::store::{ImageRecord, LayerRecord, NameRecord, Store};
use crate::unpack::UnpackOptions;

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    pub registry: RegistryOptions,
    /// The platform to choose from an index (default: this host's).
    pub platform: Platform,
    pub unpack: UnpackOptions,
    /// Layers fetched at once (Docker's default is 3).
    pub jobs: usize,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            registry: RegistryOptions::default(),
            platform: Platform::host(),
            unpack: UnpackOptions::default(),
            jobs: 3,
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub record: ImageRecord,
    /// The name it was recorded under.
    pub reference: Reference,
    /// Layers fetched (the rest the store had).
    pub fetched: usize,
}

impl Store {
    /// Pulls `reference` into the store.
    pub fn pull(
        &self,
        reference: &Reference,
        opts: &PullOptions,
        progress: &dyn Progress,
    ) -> Result<Pulled> {
        let _hold = self.hold()?;
        let shown = reference.to_string();
        let (client, top) = first_manifest(reference, &opts.registry)?;
        let repo_digest = top.digest.clone();
        let bad = |reason: String| Error::Manifest {
            image: shown.clone(),
            reason,
        };
        let mut fetched = top;
        let mut blobs = Vec::new();
        // An index may list another index; three levels are plenty.
        let image = loop {
            match manifest::parse(&fetched.bytes, fetched.media_type.as_deref()).map_err(&bad)? {
                Manifest::Image(m) => break m,
                Manifest::Index(index) if blobs.len() < 3 => {
                    let desc = platform::select(&index, &opts.platform).map_err(|offered| {
                        Error::Platform {
                            image: shown.clone(),
                            wanted: opts.platform.to_string(),
                            offered,
                        }
                    })?;
                    let digest = manifest::digest_of(desc).map_err(&bad)?;
                    blobs.push((fetched.digest.clone(), std::mem::take(&mut fetched.bytes)));
                    fetched = client.manifest(&digest.to_string())?;
                }
                Manifest::Index(_) => return Err(bad("indexes nested too deep".into())),
            }
        };
        let manifest_digest = fetched.digest.clone();
        blobs.push((manifest_digest.clone(), fetched.bytes));
        let (config_digest, config_size, layers) = manifest::image_parts(&image).map_err(&bad)?;
        progress.resolved(&shown, &manifest_digest, layers.len());
        let config_bytes = self.fetch_config(&client, &config_digest, config_size)?;
        let config = ImageConfig::parse(&config_bytes).map_err(|source| Error::Config {
            image: shown.clone(),
            source,
        })?;
        if config.diff_ids.len() != layers.len() {
            return Err(bad(format!(
                "the manifest lists {} layers, the configuration {}",
                layers.len(),
                config.diff_ids.len()
            )));
        }
        let specs: Vec<(LayerDesc, Digest)> = layers
            .into_iter()
            .zip(config.diff_ids.iter().cloned())
            .collect();
        let fetched = self.fetch_layers(&client, &specs, opts, progress)?;
        self.put_blob(&config_digest, &config_bytes)?;
        for (digest, bytes) in &blobs {
            self.put_blob(digest, bytes)?;
        }
        let mut size = 0;
        for (_, diff_id) in &specs {
            size += self.layer_info(diff_id)?.size;
        }
        let record = ImageRecord {
            manifest: manifest_digest,
            id: config_digest,
            layers: specs
                .iter()
                .map(|(l, d)| LayerRecord {
                    blob: l.digest.clone(),
                    diff_id: d.clone(),
                })
                .collect(),
            names: Vec::new(),
            size,
            config,
        };
        let name = NameRecord {
            reference: reference.to_string(),
            repo_digest,
        };
        self.update_records(|r| {
            r.add(record.clone(), Some(name.clone()));
            Ok(())
        })?;
        Ok(Pulled {
            record,
            reference: reference.clone(),
            fetched,
        })
    }

    /// The configuration blob: from the store when there, else from the registry.
    fn fetch_config(&self, client: &Client, digest: &Digest, size: u64) -> Result<Vec<u8>> {
        if size > CONFIG_MAX {
            return Err(Error::Verify {
                what: "configuration",
                digest: digest.clone(),
                reason: format!("{size} bytes is too large"),
            });
        }
        if let Ok(Some(bytes)) = self.read_blob(digest, CONFIG_MAX) {
            return Ok(bytes);
        }
        let mut bytes = Vec::new();
        let reader = client.blob(digest)?;
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, size + 1), &mut bytes)
            .map_err(|source| Error::Stream {
                what: "configuration",
                digest: digest.clone(),
                source,
            })?;
        let actual = Digest::of(&bytes);
        if &actual != digest || bytes.len() as u64 != size {
            return Err(Error::Verify {
                what: "configuration",
                digest: digest.clone(),
                reason: format!("content has digest {actual}"),
            });
        }
        Ok(bytes)
    }

    /// Fetches and unpacks the layers the store lacks, `opts.jobs` at a time; the first
    /// failure stops the others.
    fn fetch_layers(
        &self,
        client: &Client,
        specs: &[(LayerDesc, Digest)],
        opts: &PullOptions,
        progress: &dyn Progress,
    ) -> Result<usize> {
        let next = AtomicUsize::new(0);
        let fetched = AtomicUsize::new(0);
        let cancel = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let worker = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((desc, diff_id)) = specs.get(i) else {
                return;
            };
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            if self.has_layer(diff_id) {
                progress.layer_done(&desc.digest, LayerDone::Present);
                continue;
            }
            progress.layer_started(&desc.digest, Some(desc.size));
            let spec = LayerSpec {
                blob: Some(desc.digest.clone()),
                size: Some(desc.size),
                diff_id: diff_id.clone(),
            };
            let on_bytes = |n| progress.layer_bytes(&desc.digest, n);
            let from_store = self.has_blob(&desc.digest);
            let source = || -> Result<Box<dyn std::io::Read + '_>> {
                let raw: Box<dyn std::io::Read> = match self.open_blob(&desc.digest)? {
                    Some(file) => Box::new(file),
                    None => client.blob(&desc.digest)?,
                };
                Ok(Box::new(Watched {
                    inner: raw,
                    done: 0,
                    on_bytes: &on_bytes,
                    cancel: &cancel,
                }))
            };
            match self.ingest_layer(&spec, source, true, &opts.unpack) {
                Ok(done) => {
                    if done.made == crate::store::layers::Made::Unpacked {
                        fetched.fetch_add(1, Ordering::Relaxed);
                    }
                    progress.layer_done(&desc.digest, done.made.into());
                }
                Err(e) => {
                    if from_store && matches!(e, Error::Verify { .. }) {
                        self.drop_blob(&desc.digest);
                    }
                    progress.layer_done(&desc.digest, LayerDone::Failed);
                    if !cancel.swap(true, Ordering::Relaxed) {
                        *first_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                    return;
                }
            }
        };
        let jobs = opts.jobs.clamp(1, 16).min(specs.len().max(1));
        std::thread::scope(|s| {
            for _ in 1..jobs {
                s.spawn(worker);
            }
            worker();
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(fetched.into_inner()),
        }
    }
}

/// The client and the top manifest of `reference`: from the first of Docker Hub's mirrors
/// that has it (for a `docker.io` image), else from the registry itself. A mirror that fails
/// to connect or to serve the manifest is passed over, as Docker does; once one has served
/// the manifest, the pull stays with it. When the registry fails too, the error lists every
/// mirror's failure with its own.
fn first_manifest(reference: &Reference, opts: &RegistryOptions) -> Result<(Client, Fetched)> {
    let tag = reference.api_reference();
    let mirrors = match reference.registry() {
        DOCKER_HUB => opts.mirrors.as_slice(),
        _ => &[],
    };
    for mirror in mirrors {
        mirror.check(&opts.insecure)?;
    }
    let mut passed = Vec::new();
    for mirror in mirrors {
        let found = Client::connect_mirror(mirror, reference, opts)
            .and_then(|client| Ok((client.manifest(&tag)?, client)));
        match found {
            Ok((top, client)) => return Ok((client, top)),
            // A manifest that does not match the digest asked for is not a miss: refused.
            Err(e @ Error::Verify { .. }) => return Err(e),
            Err(e) => passed.push(e.to_string()),
        }
    }
    let direct = Client::connect(reference, opts).and_then(|c| Ok((c.manifest(&tag)?, c)));
    match direct {
        Ok((top, client)) => Ok((client, top)),
        Err(Error::Registry {
            registry,
            step,
            message,
        }) if !passed.is_empty() => Err(Error::Registry {
            registry,
            step,
            message: format!("{message} (after its mirrors: {})", passed.join("; ")),
        }),
        Err(e) => Err(e),
    }
}
