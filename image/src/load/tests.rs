//! `box load` of every archive shape: OCI layout directory, its tar (plain and gzipped), a
//! legacy `docker save`, an index with two platforms, and archives that lie.

use std::path::Path;

use super::LoadOptions;
use crate::digest::Digest;
use crate::error::Error;
use crate::progress::Quiet;
use crate::store::Store;
use crate::testutil::{config, gzip, zstd, Kind, Tar};
use crate::Platform;

struct Layout {
    dir: tempfile::TempDir,
}

impl Layout {
    fn new() -> Layout {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("oci/blobs/sha256")).unwrap();
        std::fs::write(
            dir.path().join("oci/oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        Layout { dir }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("oci")
    }

    fn blob(&self, bytes: &[u8]) -> Digest {
        let d = Digest::of(bytes);
        std::fs::write(self.root().join("blobs/sha256").join(d.hex()), bytes).unwrap();
        d
    }

    fn desc(media: &str, d: &Digest, size: usize) -> serde_json::Value {
        serde_json::json!({"mediaType": media, "digest": d.to_string(), "size": size})
    }

    /// An image manifest over `blobs` (each a compressed or plain layer of `tars`).
    fn image(
        &self,
        tars: &[Vec<u8>],
        blobs: &[Vec<u8>],
        media: &str,
        arch: &str,
    ) -> (Digest, usize) {
        let diff_ids: Vec<Digest> = tars.iter().map(|t| Digest::of(t)).collect();
        let mut cfg: serde_json::Value =
            serde_json::from_slice(&config(&diff_ids.iter().collect::<Vec<_>>(), &["/bin/sh"]))
                .unwrap();
        cfg["architecture"] = arch.into();
        let cfg = serde_json::to_vec(&cfg).unwrap();
        let layers: Vec<_> = blobs
            .iter()
            .map(|b| Self::desc(media, &self.blob(b), b.len()))
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": crate::manifest::OCI_MANIFEST,
            "config": Self::desc(crate::manifest::OCI_CONFIG, &self.blob(&cfg), cfg.len()),
            "layers": layers,
        }))
        .unwrap();
        (self.blob(&manifest), manifest.len())
    }

    fn index(&self, entries: &[serde_json::Value]) {
        let index = serde_json::json!({"schemaVersion": 2, "manifests": entries});
        std::fs::write(
            self.root().join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    /// The layout as a tar file.
    fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        b.append_dir_all(".", self.root()).unwrap();
        b.into_inner().unwrap()
    }
}

fn tars() -> Vec<Vec<u8>> {
    vec![
        Tar::new()
            .add("bin/", Kind::Dir)
            .add("bin/sh", Kind::File(b"#!"))
            .finish(),
        Tar::new()
            .add("etc/", Kind::Dir)
            .add("etc/hostname", Kind::File(b"layer 2"))
            .finish(),
    ]
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

fn load(store: &Store, path: &Path) -> crate::Result<Vec<super::Loaded>> {
    store.load(path, &LoadOptions::default(), &Quiet)
}

fn named_layout(blobs: impl Fn(&[u8]) -> Vec<u8>, media: &str) -> Layout {
    let l = Layout::new();
    let tars = tars();
    let blobs: Vec<_> = tars.iter().map(|t| blobs(t)).collect();
    let (m, size) = l.image(&tars, &blobs, media, &Platform::host().architecture);
    let mut desc = Layout::desc(crate::manifest::OCI_MANIFEST, &m, size);
    desc["annotations"] =
        serde_json::json!({"org.opencontainers.image.ref.name": "localhost:5000/app:v1"});
    l.index(&[desc]);
    l
}

#[test]
fn an_oci_layout_directory_and_its_tars_load() {
    let l = named_layout(gzip, "application/vnd.oci.image.layer.v1.tar+gzip");
    let (dir, store) = store();
    let loaded = load(&store, &l.root()).unwrap();
    assert_eq!(loaded[0].names, ["localhost:5000/app:v1"]);
    let image = store.image("localhost:5000/app:v1").unwrap();
    assert_eq!(
        std::fs::read(image.layers[1].join("etc/hostname")).unwrap(),
        b"layer 2"
    );
    for (name, bytes) in [
        ("plain.tar", l.tar()),
        ("gz.tar.gz", gzip(&l.tar())),
        ("zst.tar.zst", zstd(&l.tar())),
    ] {
        let (_d, store) = self::store();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let loaded = load(&store, &path).unwrap();
        assert_eq!(
            loaded[0].record.manifest,
            store.find("localhost:5000/app:v1").unwrap().manifest,
            "{name}"
        );
        assert_eq!(
            std::fs::read_dir(store.tmp_dir()).unwrap().count(),
            0,
            "{name}: the decompressed copy is gone"
        );
    }
}

#[test]
fn zstd_layers_and_bare_tags_load_unnamed() {
    let l = Layout::new();
    let tars = tars();
    let blobs: Vec<_> = tars.iter().map(|t| zstd(t)).collect();
    let (m, size) = l.image(
        &tars,
        &blobs,
        "application/vnd.oci.image.layer.v1.tar+zstd",
        &Platform::host().architecture,
    );
    let mut desc = Layout::desc(crate::manifest::OCI_MANIFEST, &m, size);
    desc["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
    l.index(&[desc]);
    let (_dir, store) = store();
    let loaded = load(&store, &l.root()).unwrap();
    assert!(
        loaded[0].names.is_empty(),
        "skopeo's bare tag names nothing"
    );
    let id = loaded[0].record.id.short().to_string();
    assert_eq!(store.image(&id).unwrap().layers.len(), 2);
}

#[test]
fn an_index_loads_this_hosts_platform() {
    let l = Layout::new();
    let tars = tars();
    let host = Platform::host().architecture;
    let other = if host == "amd64" { "arm64" } else { "amd64" };
    let (theirs, s1) = l.image(
        &tars[..1],
        &tars[..1],
        "application/vnd.oci.image.layer.v1.tar",
        other,
    );
    let (ours, s2) = l.image(
        &tars,
        &tars,
        "application/vnd.oci.image.layer.v1.tar",
        &host,
    );
    let mut a = Layout::desc(crate::manifest::OCI_MANIFEST, &theirs, s1);
    a["platform"] = serde_json::json!({"os": "linux", "architecture": other});
    let mut b = Layout::desc(crate::manifest::OCI_MANIFEST, &ours, s2);
    b["platform"] = serde_json::json!({"os": "linux", "architecture": host});
    let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": crate::manifest::OCI_INDEX, "manifests": [a, b]})).unwrap();
    let idx = l.blob(&index);
    let mut top = Layout::desc(crate::manifest::OCI_INDEX, &idx, index.len());
    top["annotations"] =
        serde_json::json!({"io.containerd.image.name": "docker.io/library/multi:1"});
    l.index(&[top]);
    let (_dir, store) = store();
    let loaded = load(&store, &l.root()).unwrap();
    assert_eq!(loaded[0].record.manifest, ours);
    let rec = store.find("multi:1").unwrap();
    assert_eq!(
        rec.names[0].repo_digest, idx,
        "the name's digest is the index's"
    );
    let wanted = LoadOptions {
        platform: Platform::parse("linux/s390x").unwrap(),
        ..LoadOptions::default()
    };
    let err = store.load(&l.root(), &wanted, &Quiet).unwrap_err();
    assert!(matches!(err, Error::Platform { .. }), "{err}");
}

#[test]
fn a_legacy_docker_save_loads() {
    let dir = tempfile::tempdir().unwrap();
    let tars = tars();
    let diff_ids: Vec<Digest> = tars.iter().map(|t| Digest::of(t)).collect();
    let cfg = config(&diff_ids.iter().collect::<Vec<_>>(), &["/bin/sh"]);
    let cfg_name = format!("{}.json", Digest::of(&cfg).hex());
    let manifest = serde_json::json!([{ "Config": cfg_name, "RepoTags": ["busybox:latest", "localhost:5000/bb:1"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"] }]);
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add("aaa/layer.tar", &tars[0]);
    add("bbb/layer.tar", &tars[1]);
    add(&cfg_name, &cfg);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    let path = dir.path().join("save.tar");
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    let (_d, store) = store();
    let loaded = load(&store, &path).unwrap();
    assert_eq!(
        loaded[0].names,
        ["docker.io/library/busybox:latest", "localhost:5000/bb:1"]
    );
    let image = store.image("busybox").unwrap();
    assert_eq!(image.record.id, Digest::of(&cfg));
    assert!(
        store.has_blob(&image.record.manifest),
        "box wrote a manifest for it"
    );
    assert_eq!(
        store.find("localhost:5000/bb:1").unwrap().manifest,
        image.record.manifest
    );
}

#[test]
fn archives_that_lie_are_refused() {
    let l = named_layout(|t| t.to_vec(), "application/vnd.oci.image.layer.v1.tar");
    // Replace a layer blob's content: its file name (digest) no longer matches.
    let blobs = l.root().join("blobs/sha256");
    let layer = Digest::of(&tars()[1]);
    std::fs::write(
        blobs.join(layer.hex()),
        Tar::new().add("evil", Kind::File(b"x")).finish(),
    )
    .unwrap();
    let (_dir, store) = store();
    let err = load(&store, &l.root()).unwrap_err();
    assert!(
        matches!(err, Error::Verify { .. } | Error::Stream { .. }),
        "{err}"
    );
    assert!(store.images().unwrap().is_empty(), "no image is recorded");
    assert!(!store.has_layer(&layer));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        load(&store, empty.path()),
        Err(Error::Archive { .. })
    ));
}
