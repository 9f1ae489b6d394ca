//! One layer from a stream (a registry's response, an archive's entry, a stored blob) into
//! the store, in one pass: the compressed bytes are hashed, counted and written to a
//! temporary blob while they are decompressed, hashed again (the diff ID) and unpacked. Only
//! when both digests and the size match are the blob and the layer renamed into place.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use super::layers::{LayerInfo, Made};
use super::Store;
use crate::compression::decompress;
use crate::digest::{Digest, HashingReader, Tee};
use crate::error::{Error, Result};
use crate::unpack::{unpack, UnpackError, UnpackOptions};

/// A layer to ingest: what its descriptor and the image's configuration promise.
#[derive(Debug, Clone)]
pub(crate) struct LayerSpec {
    /// The blob's digest, when known (a legacy `docker save` layer has only its diff ID).
    pub blob: Option<Digest>,
    /// The blob's size, when known: no more is read.
    pub size: Option<u64>,
    pub diff_id: Digest,
}

/// What was ingested.
#[derive(Debug, Clone)]
pub(crate) struct Ingested {
    pub blob: Digest,
    pub info: LayerInfo,
    pub made: Made,
}

/// Reports bytes read to a callback, and stops reading when asked to.
pub(crate) struct Watched<'a, R> {
    pub inner: R,
    pub done: u64,
    pub on_bytes: &'a (dyn Fn(u64) + Sync),
    pub cancel: &'a AtomicBool,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "cancelled: another layer failed",
            ));
        }
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.on_bytes)(self.done);
        Ok(n)
    }
}

impl Store {
    /// Ingests one layer from `source`, which yields the blob's bytes; `keep_blob` also
    /// stores the compressed blob. A layer already unpacked is not read at all.
    pub(crate) fn ingest_layer<'s>(
        &self,
        spec: &LayerSpec,
        source: impl FnOnce() -> Result<Box<dyn Read + 's>>,
        keep_blob: bool,
        opts: &UnpackOptions,
    ) -> Result<Ingested> {
        let mut blob_seen = None;
        let (info, made) = self.make_layer(&spec.diff_id, |dir| {
            let mut tmp = match keep_blob && !spec.blob.as_ref().is_some_and(|b| self.has_blob(b)) {
                true => Some(self.blob_tmp()?),
                false => None,
            };
            let limit = spec.size.unwrap_or(u64::MAX);
            let mut counted = HashingReader::new(source()?, limit);
            let unpacked = {
                let sink: Box<dyn Write> = match &mut tmp {
                    Some(t) => Box::new(&mut t.file),
                    None => Box::new(io::sink()),
                };
                let (decoder, _) = decompress(Tee::new(&mut counted, sink))
                    .map_err(|e| self.read_error(spec, e))?;
                let mut diff = HashingReader::new(decoder, u64::MAX);
                let stats = unpack(&mut diff, dir, opts).map_err(|e| match e {
                    UnpackError::Read(io) => self.read_error(spec, io),
                    source => Error::Unpack {
                        digest: spec.diff_id.clone(),
                        source,
                    },
                })?;
                // The digest covers the whole stream: what follows the tar's end too.
                diff.drain().map_err(|e| self.read_error(spec, e))?;
                (diff.finish().0, stats)
            };
            let sink: Box<dyn Write> = match &mut tmp {
                Some(t) => Box::new(&mut t.file),
                None => Box::new(io::sink()),
            };
            io::copy(&mut Tee::new(&mut counted, sink), &mut io::sink())
                .map_err(|e| self.read_error(spec, e))?;
            let (blob, len) = counted.finish();
            let (diff_id, stats) = unpacked;
            let shown = spec.blob.clone().unwrap_or_else(|| blob.clone());
            let mismatch = |reason: String| Error::Verify {
                what: "layer",
                digest: shown.clone(),
                reason,
            };
            if let Some(size) = spec.size {
                if len != size {
                    return Err(mismatch(format!(
                        "{len} bytes where {size} were promised (truncated)"
                    )));
                }
            }
            if let Some(expected) = &spec.blob {
                if &blob != expected {
                    return Err(mismatch(format!("content has digest {blob}")));
                }
            }
            if diff_id != spec.diff_id {
                return Err(mismatch(format!(
                    "unpacked content has digest {diff_id}, the image's configuration says {}",
                    spec.diff_id
                )));
            }
            if let Some(t) = tmp {
                t.commit(self, &blob)?;
            }
            blob_seen = Some(blob);
            Ok((stats.bytes, stats.entries))
        })?;
        let blob = blob_seen
            .or_else(|| spec.blob.clone())
            .unwrap_or_else(|| spec.diff_id.clone());
        Ok(Ingested { blob, info, made })
    }

    /// A read error of the layer's stream: an HTTP or archive failure, or data that is not
    /// what it claims (a corrupt gzip stream, more bytes than promised).
    fn read_error(&self, spec: &LayerSpec, e: io::Error) -> Error {
        let digest = spec.blob.clone().unwrap_or_else(|| spec.diff_id.clone());
        Error::Stream {
            what: "layer",
            digest,
            source: e,
        }
    }
}
