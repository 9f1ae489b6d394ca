//! Progress of pulls and loads, for a front end to show (box shows bytes per layer on a
//! terminal and nothing otherwise). Called from the threads that fetch layers.

use crate::digest::Digest;

/// How a layer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerDone {
    /// Fetched, checked and unpacked.
    Unpacked,
    /// The store had it already.
    Present,
    Failed,
}

/// Receives progress; every method has a do-nothing default.
pub trait Progress: Sync {
    /// The image is resolved: its manifest's digest and how many layers it has.
    fn resolved(&self, _image: &str, _manifest: &Digest, _layers: usize) {}
    /// A layer (by blob digest) is about to be fetched; `size` in bytes, when known.
    fn layer_started(&self, _layer: &Digest, _size: Option<u64>) {}
    /// `done` bytes of the layer's blob have arrived.
    fn layer_bytes(&self, _layer: &Digest, _done: u64) {}
    fn layer_done(&self, _layer: &Digest, _how: LayerDone) {}
}

/// Shows nothing.
pub struct Quiet;

impl Progress for Quiet {}
