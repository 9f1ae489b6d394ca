//! Images written by the tests: layers as tars (any entry, hostile ones included), each
//! compressed with gzip, zstd or not at all, and an OCI or Docker v2 manifest over them.

use std::io::Write;
use std::path::Path;

use sha2::Digest as _;

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let sum = sha2::Sha256::digest(bytes);
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// How a layer's blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A tar built entry by entry; names are written as given (at most 100 bytes).
pub struct Tar(tar::Builder<Vec<u8>>);

impl Default for Tar {
    fn default() -> Self {
        Tar::new()
    }
}

impl Tar {
    pub fn new() -> Tar {
        Tar(tar::Builder::new(Vec::new()))
    }

    fn raw(mut self, name: &str, kind: tar::EntryType, link: &str, mode: u32, data: &[u8]) -> Tar {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        let gnu = h.as_gnu_mut().expect("a GNU header");
        assert!(name.len() <= 100 && link.len() <= 100);
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.0.append(&h, data).expect("append to a tar in memory");
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Tar {
        self.raw(name, tar::EntryType::Regular, "", 0o644, data)
    }

    /// A file with mode 0755: a program or a script.
    pub fn executable(self, name: &str, data: &[u8]) -> Tar {
        self.raw(name, tar::EntryType::Regular, "", 0o755, data)
    }

    pub fn dir(self, name: &str) -> Tar {
        self.raw(name, tar::EntryType::Directory, "", 0o755, b"")
    }

    pub fn symlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, tar::EntryType::Symlink, target, 0o777, b"")
    }

    pub fn hardlink(self, name: &str, target: &str) -> Tar {
        self.raw(name, tar::EntryType::Link, target, 0o644, b"")
    }

    /// Every file under `root`, named relative to it (a root filesystem as one layer).
    pub fn tree(mut self, root: &Path) -> Tar {
        self.0.follow_symlinks(false);
        self.0
            .append_dir_all(".", root)
            .expect("append a directory tree");
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("finish a tar in memory")
    }
}

/// A layer: its tar, and how its blob is compressed.
pub struct Layer {
    pub tar: Vec<u8>,
    pub compression: Compression,
}

impl Layer {
    pub fn new(tar: Vec<u8>, compression: Compression) -> Layer {
        Layer { tar, compression }
    }

    pub fn blob(&self) -> Vec<u8> {
        match self.compression {
            Compression::None => self.tar.clone(),
            Compression::Gzip => {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&self.tar).expect("gzip in memory");
                gz.finish().expect("gzip in memory")
            }
            Compression::Zstd => zstd::encode_all(&self.tar[..], 3).expect("zstd in memory"),
        }
    }

    fn media_type(&self, docker: bool) -> &'static str {
        match (self.compression, docker) {
            (Compression::Gzip, true) => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            (Compression::None, true) => "application/vnd.docker.image.rootfs.diff.tar",
            (Compression::Gzip, false) => "application/vnd.oci.image.layer.v1.tar+gzip",
            (Compression::Zstd, _) => "application/vnd.oci.image.layer.v1.tar+zstd",
            (Compression::None, false) => "application/vnd.oci.image.layer.v1.tar",
        }
    }
}

/// An image ready to push: its manifest, configuration and layer blobs.
pub struct Image {
    pub manifest: Vec<u8>,
    pub media_type: &'static str,
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
}

impl Image {
    /// An image of `layers` (bottom first) whose configuration's `config` is `run` (Cmd,
    /// Env, …), for `arch`; a Docker v2 schema 2 manifest when `docker`, else OCI.
    pub fn build(layers: &[Layer], run: serde_json::Value, arch: &str, docker: bool) -> Image {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256(&l.tar)).collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z", "config": run,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let blobs: Vec<Vec<u8>> = layers.iter().map(Layer::blob).collect();
        let (media_type, config_type) = if docker {
            (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
            )
        } else {
            (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
            )
        };
        let descriptors: Vec<_> = layers
            .iter()
            .zip(&blobs)
            .map(|(l, b)| serde_json::json!({"mediaType": l.media_type(docker), "digest": sha256(b), "size": b.len()}))
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": media_type,
            "config": {"mediaType": config_type, "digest": sha256(&config), "size": config.len()},
            "layers": descriptors,
        }))
        .unwrap();
        Image {
            manifest,
            media_type,
            config,
            layers: blobs,
        }
    }

    pub fn blobs(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.layers.iter().chain(std::iter::once(&self.config))
    }

    pub fn digest(&self) -> String {
        sha256(&self.manifest)
    }
}

/// The architecture of this host in the Go names images use.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
