//! Two processes loading the same image at once: each layer is unpacked once, both get the
//! image, and nothing is left half-made. The parent holds the layer's lock while the two
//! children start, so that both meet it.
//!
//! A test of its own (`harness = false`): the same binary is the parent and, with
//! `BOX_IMAGE_CHILD` set, each child.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use box_image::progress::{LayerDone, Progress};
use box_image::{Digest, LoadOptions, Store};
use nix::fcntl::{Flock, FlockArg};

struct Count(std::sync::Mutex<(usize, usize)>);

impl Progress for Count {
    fn layer_done(&self, _: &Digest, how: LayerDone) {
        let mut c = self.0.lock().unwrap();
        match how {
            LayerDone::Unpacked => c.0 += 1,
            LayerDone::Present => c.1 += 1,
            LayerDone::Failed => {}
        }
    }
}

fn main() {
    if let Ok(args) = std::env::var("BOX_IMAGE_CHILD") {
        let (store, layout) = args.split_once('\n').unwrap();
        println!("started");
        std::io::stdout().flush().unwrap();
        let store = Store::open(store).unwrap();
        let count = Count(Default::default());
        store
            .load(layout.as_ref(), &LoadOptions::default(), &count)
            .unwrap();
        let (unpacked, present) = *count.0.lock().unwrap();
        println!("unpacked {unpacked} present {present}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (layout, diff_id) = layout(dir.path());
    let store_path = dir.path().join("store");
    let store = Store::open(&store_path).unwrap();
    let lock_path = store_path.join(format!("locks/layer-{}", diff_id.hex()));
    let lock = std::fs::File::create(&lock_path).unwrap();
    let held = Flock::lock(lock, FlockArg::LockExclusive).unwrap();
    let spawn = || {
        Command::new(std::env::current_exe().unwrap())
            .env(
                "BOX_IMAGE_CHILD",
                format!("{}\n{}", store_path.display(), layout.display()),
            )
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut children = [spawn(), spawn()];
    let mut outputs: Vec<BufReader<_>> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for out in &mut outputs {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "started\n");
    }
    drop(held);
    let mut unpacked = 0;
    for (child, out) in children.iter_mut().zip(&mut outputs) {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(child.wait().unwrap().success(), "a concurrent load failed");
        let n: Vec<usize> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(n.len(), 2, "{line:?}");
        assert_eq!(n[0] + n[1], 1, "one layer, reported once: {line:?}");
        unpacked += n[0];
    }
    assert_eq!(unpacked, 1, "the layer was unpacked by exactly one process");
    assert_eq!(store.images().unwrap().len(), 1);
    let image = store.image("localhost/concurrent:1").unwrap();
    assert_eq!(std::fs::read_dir(&image.layers[0]).unwrap().count(), 500);
    assert_eq!(
        std::fs::read_dir(store_path.join("tmp")).unwrap().count(),
        0,
        "nothing half-made"
    );
    assert_eq!(
        std::fs::read_dir(store_path.join("layers"))
            .unwrap()
            .count(),
        1
    );
    println!("concurrent: ok");
}

/// An OCI layout of one image with one layer of 500 files.
fn layout(dir: &std::path::Path) -> (std::path::PathBuf, Digest) {
    let root = dir.join("oci");
    std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..500 {
        let data = vec![b'x'; 4096 + i];
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("f{i}"), &data[..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let diff_id = Digest::of(&tar);
    let blob = |bytes: &[u8]| {
        let d = Digest::of(bytes);
        std::fs::write(root.join("blobs/sha256").join(d.hex()), bytes).unwrap();
        serde_json::json!({"digest": d.to_string(), "size": bytes.len()})
    };
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": box_image::Platform::host().architecture, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    }))
    .unwrap();
    let mut cfg = blob(&config);
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
    let mut layer = blob(&tar);
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar".into();
    let manifest = serde_json::to_vec(
        &serde_json::json!({"schemaVersion": 2, "config": cfg, "layers": [layer]}),
    )
    .unwrap();
    let mut m = blob(&manifest);
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    m["annotations"] = serde_json::json!({"io.containerd.image.name": "localhost/concurrent:1"});
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [m]})).unwrap(),
    )
    .unwrap();
    (root, diff_id)
}
