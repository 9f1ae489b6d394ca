//! Layers and images written by the tests: tar entries with any name (hostile ones too,
//! which the tar crate's own builder refuses to write), compressed or not.

use std::io::Write;

use crate::digest::Digest;

/// A tar stream built entry by entry.
#[derive(Default)]
pub struct Tar {
    builder: Option<tar::Builder<Vec<u8>>>,
}

/// Entry kinds the tests write.
pub enum Kind<'a> {
    File(&'a [u8]),
    Dir,
    Symlink(&'a str),
    HardLink(&'a str),
    Char(u32, u32),
    Fifo,
}

impl Tar {
    pub fn new() -> Tar {
        Tar {
            builder: Some(tar::Builder::new(Vec::new())),
        }
    }

    fn b(&mut self) -> &mut tar::Builder<Vec<u8>> {
        self.builder.as_mut().expect("not finished")
    }

    /// An entry named `name` exactly (at most 100 bytes), mode 0644/0755, owned by 0:0.
    pub fn add(mut self, name: &str, kind: Kind<'_>) -> Tar {
        self.add_with(name, kind, 0o644, (0, 0), &[]);
        self
    }

    pub fn add_with(
        &mut self,
        name: &str,
        kind: Kind<'_>,
        mode: u32,
        owner: (u64, u64),
        xattrs: &[(&str, &[u8])],
    ) {
        if !xattrs.is_empty() {
            let pax: Vec<(String, &[u8])> = xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), *v))
                .collect();
            self.b()
                .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), *v)))
                .unwrap();
        }
        let mut h = tar::Header::new_gnu();
        let (entry_type, data): (tar::EntryType, &[u8]) = match &kind {
            Kind::File(d) => (tar::EntryType::Regular, d),
            Kind::Dir => (tar::EntryType::Directory, b""),
            Kind::Symlink(_) => (tar::EntryType::Symlink, b""),
            Kind::HardLink(_) => (tar::EntryType::Link, b""),
            Kind::Char(..) => (tar::EntryType::Char, b""),
            Kind::Fifo => (tar::EntryType::Fifo, b""),
        };
        h.set_entry_type(entry_type);
        let gnu = h.as_gnu_mut().unwrap();
        assert!(name.len() <= 100, "test names fit the header");
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Kind::Symlink(t) | Kind::HardLink(t) = kind {
            gnu.linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        if let Kind::Char(major, minor) = kind {
            h.set_device_major(major).unwrap();
            h.set_device_minor(minor).unwrap();
        }
        h.set_mode(if matches!(kind, Kind::Dir) && mode == 0o644 {
            0o755
        } else {
            mode
        });
        h.set_uid(owner.0);
        h.set_gid(owner.1);
        h.set_mtime(1_000_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        self.b().append(&h, data).unwrap();
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.builder.take().unwrap().into_inner().unwrap()
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// A minimal image configuration for layers of these diff IDs.
pub fn config(diff_ids: &[&Digest], cmd: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": crate::Platform::host().architecture,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": { "Cmd": cmd, "Env": ["PATH=/bin"] },
        "rootfs": { "type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>() },
    }))
    .unwrap()
}
