//! The store: layers checked on arrival (a corrupt or truncated blob is refused and leaves
//! nothing behind), files read through the layers, and removals.

use std::io::Read;

use super::ingest::LayerSpec;
use super::layers::Made;
use super::{ImageRecord, LayerRecord, NameRecord, Store};
use crate::digest::Digest;
use crate::error::Error;
use crate::testutil::{gzip, zstd, Kind, Tar};
use crate::unpack::UnpackOptions;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

fn layer(content: &[u8]) -> Vec<u8> {
    Tar::new()
        .add("etc/", Kind::Dir)
        .add("etc/file", Kind::File(content))
        .finish()
}

fn ingest(store: &Store, blob: &[u8], spec: &LayerSpec) -> crate::Result<super::ingest::Ingested> {
    let data = blob.to_vec();
    store.ingest_layer(
        spec,
        move || Ok(Box::new(std::io::Cursor::new(data)) as Box<dyn Read>),
        true,
        &UnpackOptions::default(),
    )
}

fn spec(blob: &[u8], tar: &[u8]) -> LayerSpec {
    LayerSpec {
        blob: Some(Digest::of(blob)),
        size: Some(blob.len() as u64),
        diff_id: Digest::of(tar),
    }
}

/// Nothing half-made anywhere in the store.
fn assert_clean(store: &Store, diff_id: &Digest) {
    assert!(!store.has_layer(diff_id));
    let tmp: Vec<_> = std::fs::read_dir(store.tmp_dir()).unwrap().collect();
    assert!(tmp.is_empty(), "left in tmp/: {tmp:?}");
    let layers: Vec<_> = std::fs::read_dir(store.root().join("layers"))
        .unwrap()
        .collect();
    assert!(layers.is_empty(), "left in layers/: {layers:?}");
}

#[test]
fn gzip_zstd_and_plain_layers_are_stored_and_unpacked() {
    let (_dir, store) = store();
    for (i, compress) in [gzip as fn(&[u8]) -> Vec<u8>, zstd, |t: &[u8]| t.to_vec()]
        .iter()
        .enumerate()
    {
        let tar = layer(format!("layer {i}").as_bytes());
        let blob = compress(&tar);
        let spec = spec(&blob, &tar);
        let done = ingest(&store, &blob, &spec).unwrap();
        assert_eq!(done.made, Made::Unpacked);
        assert_eq!(done.blob, Digest::of(&blob));
        assert!(store.has_blob(&done.blob), "the blob is kept");
        let content = std::fs::read(store.layer_path(&spec.diff_id).join("etc/file")).unwrap();
        assert_eq!(content, format!("layer {i}").as_bytes());
        assert_eq!(
            store.layer_info(&spec.diff_id).unwrap().size,
            content.len() as u64
        );
        let again = ingest(&store, b"not read at all", &spec).unwrap();
        assert_eq!(again.made, Made::Present, "a layer is unpacked once");
    }
}

#[test]
fn a_corrupt_blob_is_refused_and_leaves_nothing() {
    let (_dir, store) = store();
    let tar = layer(b"content");
    let blob = gzip(&tar);
    let good = spec(&blob, &tar);
    let mut corrupt = blob.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    let err = ingest(&store, &corrupt, &good).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verify { .. } | Error::Stream { .. } | Error::Unpack { .. }
        ),
        "{err}"
    );
    assert_clean(&store, &good.diff_id);
    assert!(!store.has_blob(good.blob.as_ref().unwrap()));
}

#[test]
fn a_truncated_or_overlong_blob_is_refused() {
    let (_dir, store) = store();
    let tar = layer(b"content");
    let blob = gzip(&tar);
    let good = spec(&blob, &tar);
    let err = ingest(&store, &blob[..blob.len() - 10], &good).unwrap_err();
    assert!(!matches!(err, Error::Unpack { .. }), "{err}");
    assert_clean(&store, &good.diff_id);
    let mut long = blob.clone();
    long.extend_from_slice(b"trailing bytes past the promised size");
    let err = ingest(&store, &long, &good).unwrap_err();
    assert!(err.to_string().contains("more than the"), "{err}");
    assert_clean(&store, &good.diff_id);
}

#[test]
fn a_layer_that_is_not_what_the_configuration_says_is_refused() {
    let (_dir, store) = store();
    let tar = layer(b"content");
    let other = layer(b"other");
    let mut wrong = spec(&tar, &tar);
    wrong.diff_id = Digest::of(&other);
    let err = ingest(&store, &tar, &wrong).unwrap_err();
    assert!(err.to_string().contains("configuration says"), "{err}");
    assert_clean(&store, &wrong.diff_id);
    let mut wrong_blob = spec(&tar, &tar);
    wrong_blob.blob = Some(Digest::of(b"something else"));
    assert!(matches!(
        ingest(&store, &tar, &wrong_blob),
        Err(Error::Verify { .. })
    ));
    assert_clean(&store, &wrong_blob.diff_id);
}

#[test]
fn a_hostile_layer_is_removed_whole() {
    let (dir, store) = store();
    let tar = Tar::new()
        .add("ok", Kind::File(b"x"))
        .add("../escape", Kind::File(b"x"))
        .finish();
    let err = ingest(&store, &tar, &spec(&tar, &tar)).unwrap_err();
    assert!(matches!(err, Error::Unpack { .. }), "{err}");
    assert_clean(&store, &Digest::of(&tar));
    assert!(!dir.path().join("store/tmp/escape").exists() && !dir.path().join("escape").exists());
}

fn record(store: &Store, tars: &[&[u8]], name: Option<&str>) -> ImageRecord {
    let mut layers = Vec::new();
    for tar in tars {
        let done = ingest(store, tar, &spec(tar, tar)).unwrap();
        layers.push(LayerRecord {
            blob: done.blob,
            diff_id: Digest::of(tar),
        });
    }
    let diff_ids: Vec<&Digest> = layers.iter().map(|l| &l.diff_id).collect();
    let config = crate::testutil::config(&diff_ids, &["/bin/sh"]);
    let config_digest = Digest::of(&config);
    store.put_blob(&config_digest, &config).unwrap();
    let manifest = format!("manifest of {config_digest}");
    let manifest_digest = Digest::of(manifest.as_bytes());
    store
        .put_blob(&manifest_digest, manifest.as_bytes())
        .unwrap();
    let image = ImageRecord {
        manifest: manifest_digest.clone(),
        id: config_digest,
        layers,
        names: vec![],
        size: 0,
        config: crate::ImageConfig::parse(&config).unwrap(),
    };
    let name = name.map(|n| NameRecord {
        reference: crate::Reference::parse(n).unwrap().to_string(),
        repo_digest: manifest_digest,
    });
    store
        .update_records(|r| {
            r.add(image.clone(), name);
            Ok(())
        })
        .unwrap();
    image
}

#[test]
fn files_are_read_through_the_layers_top_first() {
    let (_dir, store) = store();
    let lower = Tar::new()
        .add("etc/passwd", Kind::File(b"root:x:0:0::/root:/bin/sh\n"))
        .add("etc/group", Kind::File(b"root:x:0:\n"))
        .finish();
    let upper = Tar::new()
        .add(
            "etc/passwd",
            Kind::File(b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
        )
        .add("etc/group", Kind::Symlink("/etc/shadow"))
        .finish();
    record(&store, &[&lower, &upper], Some("app"));
    let image = store.image("app").unwrap();
    assert_eq!(image.layers.len(), 2);
    assert!(
        image.layers[0].ends_with(format!("{}/diff", Digest::of(&lower).hex())),
        "bottom first"
    );
    let id = image.identity(Some("app"));
    assert!(
        id.unwrap_err().to_string().contains("symlink"),
        "a link in the image is not followed on the host"
    );
    assert_eq!(image.read_file("etc/passwd").unwrap().unwrap().len(), 61);
    assert_eq!(image.read_file("etc/missing").unwrap(), None);
    assert_eq!(image.read_file("etc/passwd/x").unwrap(), None);
    assert_eq!(image.plan(&Default::default()).unwrap().args, ["/bin/sh"]);
}

#[test]
#[ignore = "needs root: whiteouts and opaque directories (trusted xattrs); cargo xtask test runs it"]
fn whiteouts_and_opaque_directories_hide_lower_files() {
    let (_dir, store) = store();
    let lower = Tar::new()
        .add("etc/passwd", Kind::File(b"root:x:0:0::/root:/bin/sh\n"))
        .add("etc/group", Kind::File(b"root:x:0:\nstaff:x:50:app\n"))
        .add("opt/a", Kind::File(b"a"))
        .finish();
    let upper = Tar::new()
        .add("etc/.wh.passwd", Kind::File(b""))
        .add("opt/.wh..wh..opq", Kind::File(b""))
        .add("opt/b", Kind::File(b"b"))
        .finish();
    record(&store, &[&lower, &upper], Some("wh"));
    let image = store.image("wh").unwrap();
    assert_eq!(image.read_file("etc/passwd").unwrap(), None, "whited out");
    assert!(image.read_file("etc/group").unwrap().is_some());
    assert_eq!(
        image.read_file("opt/a").unwrap(),
        None,
        "hidden by the opaque directory"
    );
    assert_eq!(image.read_file("opt/b").unwrap().unwrap(), b"b");
    let id = image.identity(Some("1000")).unwrap();
    assert_eq!((id.uid, id.gid, id.home.as_str()), (1000, 0, "/"));
}

#[test]
fn rmi_untags_refuses_in_use_images_and_frees_layers() {
    let (_dir, store) = store();
    let shared = layer(b"shared");
    let own = layer(b"own");
    let a = record(&store, &[&shared, &own], Some("a"));
    let b = record(&store, &[&shared], Some("b"));
    store
        .update_records(|r| {
            r.add(
                b.clone(),
                Some(NameRecord {
                    reference: "docker.io/library/b:2".into(),
                    repo_digest: b.manifest.clone(),
                }),
            );
            Ok(())
        })
        .unwrap();
    let used_by = |img: &ImageRecord| (img.manifest == a.manifest).then(|| "web".to_string());
    let err = store.remove("a", false, &used_by).unwrap_err();
    assert_eq!(
        err.to_string(),
        "image a is used by container web; remove the container first"
    );
    assert!(store.has_layer(&Digest::of(&own)));
    let err = store.remove(b.id.short(), false, &|_| None).unwrap_err();
    assert!(matches!(err, Error::SeveralNames { .. }), "{err}");
    let removed = store.remove("b", false, &|_| None).unwrap();
    assert_eq!(removed.untagged, ["docker.io/library/b:latest"]);
    assert_eq!(removed.deleted, None, "b:2 still names it");
    let removed = store.remove("a", false, &|_| None).unwrap();
    assert_eq!(removed.deleted, Some(a.id.clone()));
    assert_eq!(removed.freed.layers, 1, "only the layer no other image has");
    assert!(store.has_layer(&Digest::of(&shared)) && !store.has_layer(&Digest::of(&own)));
    assert!(!store.has_blob(&a.id) && store.has_blob(&b.id));
    assert!(matches!(
        store.remove("a", false, &|_| None),
        Err(Error::NoSuchImage(_))
    ));
}

#[test]
fn prune_removes_unnamed_unused_images_and_leftovers() {
    let (_dir, store) = store();
    let kept = record(&store, &[&layer(b"kept")], None);
    let gone = record(&store, &[&layer(b"gone")], None);
    let named = record(&store, &[&layer(b"named")], Some("named"));
    std::fs::create_dir(store.tmp_dir().join("layer-123-0")).unwrap();
    std::fs::write(store.tmp_dir().join("blob-123-1"), b"half").unwrap();
    let pruned = store
        .prune(&|img| (img.manifest == kept.manifest).then(|| "c1".into()))
        .unwrap();
    assert_eq!(pruned.images, vec![gone.id.clone()]);
    assert_eq!(pruned.freed.layers, 1);
    let left: Vec<_> = store
        .images()
        .unwrap()
        .into_iter()
        .map(|i| i.manifest)
        .collect();
    assert_eq!(left, vec![kept.manifest, named.manifest]);
    assert_eq!(
        std::fs::read_dir(store.tmp_dir()).unwrap().count(),
        0,
        "what killed pulls left"
    );
}
