//! `images.json`: the images in the store and their names. Changed only under
//! `images.lock`, replaced atomically (a new file, synced, renamed over the old), so a reader
//! without the lock sees the old list or the new one.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use nix::fcntl::FlockArg;
use serde::{Deserialize, Serialize};

use super::Store;
use crate::config::ImageConfig;
use crate::digest::Digest;
use crate::error::{io_err, Error, Result};
use crate::reference::Reference;

/// The largest `images.json` box reads.
const RECORDS_MAX: u64 = 64 << 20;

/// One image: a platform manifest, its configuration and layers, and the names it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The manifest's digest: the image, exactly.
    pub manifest: Digest,
    /// The configuration's digest: what Docker calls the image ID.
    pub id: Digest,
    pub layers: Vec<LayerRecord>,
    pub names: Vec<NameRecord>,
    /// Bytes of the unpacked layers' files.
    pub size: u64,
    /// The configuration, as box uses it: kept here so that running the image needs no
    /// parsing of the (checked, stored) configuration blob.
    pub config: ImageConfig,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// The (compressed) blob's digest, as the manifest lists it.
    pub blob: Digest,
    /// The unpacked tar's digest: the layer's directory in the store.
    pub diff_id: Digest,
}

/// A name of an image, and the digest its registry (or archive) gave for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRecord {
    /// `registry/repository:tag`, or `registry/repository@digest` for an image pulled by
    /// digest only.
    pub reference: String,
    /// What the name resolved to where it came from: the manifest, or the index (manifest
    /// list) the manifest was chosen from. `repository@digest` pulls it again.
    pub repo_digest: Digest,
}

impl ImageRecord {
    /// The image's name for messages: its first name, else its short ID.
    pub fn shown(&self) -> String {
        match self.names.first() {
            Some(n) => n.reference.clone(),
            None => self.id.short().to_string(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Records {
    pub images: Vec<ImageRecord>,
}

impl Records {
    /// Adds `image` under `name` (or unnamed): the name leaves whatever image had it, and an
    /// image recorded already keeps its other names.
    pub fn add(&mut self, image: ImageRecord, name: Option<NameRecord>) {
        if let Some(name) = &name {
            for other in &mut self.images {
                other.names.retain(|n| n.reference != name.reference);
            }
        }
        match self
            .images
            .iter_mut()
            .find(|i| i.manifest == image.manifest)
        {
            Some(existing) => existing.names.extend(name),
            None => {
                let mut image = image;
                image.names = name.into_iter().collect();
                self.images.push(image);
            }
        }
    }

    /// The image `query` names: a reference (`busybox`, `host:5000/app:1`,
    /// `app@sha256:…`) first, as Docker looks; else a digest (manifest, configuration or a
    /// name's repo digest), or a prefix of at least 4 digits of the configuration's digest
    /// (the image ID).
    pub fn find(&self, query: &str) -> Result<usize> {
        let reference = Reference::parse(query);
        if let Ok(reference) = &reference {
            if let Some(i) = self.by_name(reference) {
                return Ok(i);
            }
        }
        let hex = query.strip_prefix("sha256:").unwrap_or(query);
        let is_hex = (4..=64).contains(&hex.len())
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if is_hex {
            let matches: Vec<usize> = (0..self.images.len())
                .filter(|&i| {
                    let img = &self.images[i];
                    img.id.hex().starts_with(hex)
                        || (hex.len() == 64
                            && (img.manifest.hex() == hex
                                || img.names.iter().any(|n| n.repo_digest.hex() == hex)))
                })
                .collect();
            match matches.as_slice() {
                [one] => return Ok(*one),
                [] => {}
                _ => return Err(Error::Ambiguous(query.into())),
            }
        }
        match reference {
            Err(e) if !is_hex => Err(e.into()),
            _ => Err(Error::NoSuchImage(query.into())),
        }
    }

    fn by_name(&self, reference: &Reference) -> Option<usize> {
        let wanted = reference.to_string();
        self.images.iter().position(|img| {
            img.names.iter().any(|n| {
                n.reference == wanted
                    || reference.digest().is_some_and(|d| {
                        Reference::parse(&n.reference).is_ok_and(|r| r.name() == reference.name())
                            && (&n.repo_digest == d || &img.manifest == d)
                    })
            })
        })
    }
}

impl Store {
    fn records_path(&self) -> std::path::PathBuf {
        self.root.join("images.json")
    }

    /// The images, as `images.json` lists them now.
    pub(crate) fn records(&self) -> Result<Records> {
        use std::io::Read;
        let path = self.records_path();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Records::default()),
            Err(e) => return Err(io_err("open image records", &path)(e)),
        };
        // Sized from the file's length, so that the read takes one call rather than a
        // doubling buffer's several (it is on every `box up` of an image).
        let len = file.metadata().map_or(0, |m| m.len()).min(RECORDS_MAX);
        let mut text = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
        file.take(RECORDS_MAX)
            .read_to_end(&mut text)
            .map_err(io_err("read image records", &path))?;
        serde_json::from_slice(&text).map_err(|e| io_err("parse image records", &path)(e.into()))
    }

    /// Changes the records under `images.lock`; nothing is written when `change` fails.
    pub(crate) fn update_records<T>(
        &self,
        change: impl FnOnce(&mut Records) -> Result<T>,
    ) -> Result<T> {
        let _lock = self.lock("images.lock", FlockArg::LockExclusive)?;
        let mut records = self.records()?;
        let out = change(&mut records)?;
        let path = self.records_path();
        let tmp = self.tmp_path("images.json");
        let text = serde_json::to_vec_pretty(&records)
            .map_err(|e| io_err("write image records", &tmp)(e.into()))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(io_err("write image records", &tmp))?;
        // Synced: this file is what says an image is complete, and it must not outlive a
        // crash as an empty file.
        file.write_all(&text)
            .and_then(|()| file.sync_all())
            .map_err(io_err("write image records", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err("replace image records", &path))?;
        Ok(out)
    }

    /// Every image in the store.
    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.records()?.images)
    }

    /// The image `query` names (see [`Records::find`]).
    pub fn find(&self, query: &str) -> Result<ImageRecord> {
        let records = self.records()?;
        let i = records.find(query)?;
        Ok(records.images[i].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest::from_hex(&format!("{n:02x}").repeat(32)).unwrap()
    }

    fn image(n: u8) -> ImageRecord {
        ImageRecord {
            manifest: d(n),
            id: d(n + 100),
            layers: vec![],
            names: vec![],
            size: 0,
            config: ImageConfig::default(),
        }
    }

    fn name(r: &str, repo: u8) -> Option<NameRecord> {
        Some(NameRecord {
            reference: Reference::parse(r).unwrap().to_string(),
            repo_digest: d(repo),
        })
    }

    #[test]
    fn a_name_moves_to_the_newest_image() {
        let mut r = Records::default();
        r.add(image(1), name("busybox", 50));
        r.add(image(1), name("busybox:1", 50));
        assert_eq!(r.images[0].names.len(), 2);
        r.add(image(2), name("busybox", 51));
        assert_eq!(r.images[0].names.len(), 1, "busybox:latest left image 1");
        assert_eq!(r.find("busybox").unwrap(), 1);
        assert_eq!(r.find("docker.io/library/busybox:1").unwrap(), 0);
        r.add(image(3), None);
        assert!(r.images[2].names.is_empty());
    }

    #[test]
    fn images_are_found_by_name_digest_and_id() {
        let mut r = Records::default();
        r.add(image(1), name("busybox", 50));
        r.add(image(2), name("localhost:5000/app:v1", 2));
        assert_eq!(r.find(&d(1).to_string()).unwrap(), 0, "the manifest digest");
        assert_eq!(r.find(&d(50).to_string()).unwrap(), 0, "the repo digest");
        assert_eq!(r.find(&d(101).hex()[..12]).unwrap(), 0, "a short ID");
        assert_eq!(r.find(&format!("busybox@{}", d(50))).unwrap(), 0);
        assert_eq!(r.find(&format!("busybox@{}", d(1))).unwrap(), 0);
        assert!(matches!(
            r.find(&format!("alpine@{}", d(50))),
            Err(Error::NoSuchImage(_))
        ));
        assert_eq!(r.find("localhost:5000/app:v1").unwrap(), 1);
        assert!(matches!(
            r.find("localhost:5000/app:v2"),
            Err(Error::NoSuchImage(_))
        ));
        assert!(matches!(r.find("Bad"), Err(Error::Reference(_))));
        r.add(image(3), None);
        r.images[2].id = Digest::from_hex(&format!("65{}", "00".repeat(31))).unwrap();
        assert!(
            matches!(r.find("650"), Err(Error::NoSuchImage(_))),
            "3 digits are a name only"
        );
        r.images[1].id = Digest::from_hex(&format!("6500{}", "11".repeat(30))).unwrap();
        assert!(matches!(r.find("6500"), Err(Error::Ambiguous(_))));
    }
}
