//! The image tests' world: a registry of their own, a store and a state root of their own,
//! and the `box` binary run against them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use box_tests::oci::{sha256, Image};
use box_tests::registry::Registry;
use box_tests::{box_bin, ok, stderr};

pub struct Env {
    pub registry: Registry,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let registry = Registry::start();
        let dir = tempfile::Builder::new()
            .prefix("boximages-")
            .tempdir()
            .expect("a temporary directory");
        Env { registry, dir }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `box --store S --root R ARGS…`, ready to spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(box_bin());
        cmd.arg("--store")
            .arg(self.store())
            .arg("--root")
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run box")
    }

    /// `box images --format json`.
    pub fn images(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&ok(&self.run(&["images", "--format", "json"])))
            .expect("images as JSON")
    }

    /// The store's unpacked directory of the layer whose tar is `tar`.
    pub fn layer_dir(&self, tar: &[u8]) -> PathBuf {
        let diff_id = sha256(tar);
        self.store()
            .join("layers")
            .join(diff_id.trim_start_matches("sha256:"))
            .join("diff")
    }

    /// A file of the (single) layer of `image`, read from the store.
    pub fn layer_file(&self, image: &Image, path: &str) -> String {
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
        let diff_id = config["rootfs"]["diff_ids"][0].as_str().unwrap();
        let dir = self
            .store()
            .join("layers")
            .join(diff_id.trim_start_matches("sha256:"))
            .join("diff");
        std::fs::read_to_string(dir.join(path))
            .unwrap_or_else(|e| panic!("{path} in {}: {e}", dir.display()))
    }

    pub fn store_has_blob(&self, digest: &str) -> bool {
        self.store()
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
            .exists()
    }

    pub fn store_entries(&self, sub: &str) -> usize {
        std::fs::read_dir(self.store().join(sub)).map_or(0, |d| d.count())
    }

    /// Nothing half-made in the store.
    pub fn assert_no_leftovers(&self) {
        let tmp: Vec<_> = std::fs::read_dir(self.store().join("tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(tmp.is_empty(), "left in the store's tmp/: {tmp:?}");
    }

    /// Runs `script` in a private mount namespace where the layers of `tars` (bottom first)
    /// are stacked read-only with overlayfs at `/`'s place: what a container's root will be.
    pub fn overlay_view(&self, tars: &[Vec<u8>], script: &str) -> String {
        let lower: Vec<String> = tars
            .iter()
            .rev()
            .map(|t| self.layer_dir(t).display().to_string())
            .collect();
        let mnt = self.dir.path().join("merged");
        std::fs::create_dir_all(&mnt).unwrap();
        let script = script
            .replace("/etc", &format!("{}/etc", mnt.display()))
            .replace("/opt", &format!("{}/opt", mnt.display()));
        let full = format!(
            "mount -t overlay overlay -o ro,lowerdir={} {} && {{ {script}; }}",
            lower.join(":"),
            mnt.display()
        );
        let out = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &full])
            .output()
            .expect("run unshare (util-linux)");
        let text = ok(&out);
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mounts.contains(&mnt.display().to_string()),
            "the overlay stayed mounted on the host"
        );
        text
    }

    /// Writes the state of a container named `name` whose record names an image, as `box up`
    /// records one (docs/images.md).
    pub fn fake_container(&self, name: &str, reference: &str, manifest: &str) {
        let dir = self.root().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("lock"), b"").unwrap();
        let state = serde_json::json!({"name": name, "image": {"reference": reference, "manifest": manifest}});
        std::fs::write(dir.join("state.json"), serde_json::to_vec(&state).unwrap()).unwrap();
    }

    pub fn remove_fake_container(&self, name: &str) {
        std::fs::remove_dir_all(self.root().join(name)).unwrap();
    }

    pub fn skopeo(&self, args: &[&str]) {
        let out = Command::new("skopeo")
            .args(["--insecure-policy"])
            .args(args)
            .output()
            .expect("run skopeo (Debian's skopeo: `cargo xtask test` installs it)");
        assert!(out.status.success(), "skopeo {args:?}: {}", stderr(&out));
    }
}

/// A busybox root filesystem to make a layer of.
pub fn busybox_layer(env: &Env) -> PathBuf {
    let dir = env.dir.path().join("busybox-root");
    if !Path::new(&dir).exists() {
        box_tests::busybox_rootfs_at(&dir).expect("build a busybox root");
    }
    dir
}
