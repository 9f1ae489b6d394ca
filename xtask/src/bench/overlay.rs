//! `box up` of a container on an image (an overlay root over the store's layers) against the
//! same container on a directory holding the same files: what the image path adds to a start
//! (finding the image in the store, the user lookup through the layers, the upper directory,
//! the overlay mount). Goal (issue 13): at most 0.5 ms more, medians.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::registry::Registry;
use serde_json::{json, Value};

use super::stats::{self, round3, Summary};

/// One way of starting: the root, and where the state root (and so the upper directory) is.
pub struct Variant {
    pub what: &'static str,
    pub samples: Vec<f64>,
}

pub struct OverlayBench {
    /// Directory and image with the state root on the disk, then both on a tmpfs.
    pub variants: Vec<Variant>,
    pub error: Option<String>,
}

const DIR_DISK: usize = 0;
const IMAGE_DISK: usize = 1;
const DIR_TMPFS: usize = 2;
const IMAGE_TMPFS: usize = 3;

impl OverlayBench {
    fn median(&self, i: usize) -> Option<f64> {
        Some(stats::summarize(&self.variants.get(i)?.samples)?.median)
    }

    /// Median on the image minus median on the directory, ms, with the state root on a tmpfs
    /// (`/run` on most hosts; the goal's measure).
    pub fn added_ms(&self) -> Option<f64> {
        Some(self.median(IMAGE_TMPFS)? - self.median(DIR_TMPFS)?)
    }

    /// The same with the state root on the disk.
    pub fn added_on_disk_ms(&self) -> Option<f64> {
        Some(self.median(IMAGE_DISK)? - self.median(DIR_DISK)?)
    }

    pub fn print(&self) {
        println!(
            "\nbox up of /bin/true: a busybox image (overlay root) vs the same files as a directory (ms, {} runs each, interleaved)",
            self.variants.first().map_or(0, |v| v.samples.len())
        );
        if let Some(e) = &self.error {
            println!("  failed: {e}");
            return;
        }
        for v in &self.variants {
            match stats::summarize(&v.samples) {
                Some(s) => println!(
                    "  {:<40} median {:>7.3}  min {:>7.3}  p90 {:>7.3}  max {:>7.3}",
                    v.what, s.median, s.min, s.p90, s.max
                ),
                None => println!("  {:<40} no samples", v.what),
            }
        }
        if let Some(d) = self.added_on_disk_ms() {
            println!("  the overlay adds, state on the disk      {d:+.3} ms (median difference)");
        }
        if let Some(d) = self.added_ms() {
            println!("  the overlay adds, state on a tmpfs       {d:+.3} ms (median difference)");
        }
    }

    pub fn to_json(&self) -> Value {
        let variants: Vec<Value> = self
            .variants
            .iter()
            .map(|v| json!({"what": v.what, "ms": stats::summarize(&v.samples).map(Summary::to_json)}))
            .collect();
        json!({
            "variants": variants,
            "added_ms_state_on_tmpfs": self.added_ms().map(round3),
            "added_ms_state_on_disk": self.added_on_disk_ms().map(round3),
            "error": self.error,
        })
    }
}

pub fn run(box_bin: &Path, work: &Path, runs: usize, warmup: usize) -> OverlayBench {
    let mut bench = OverlayBench {
        variants: [
            "directory root, state on the disk",
            "image (overlay) root, state on the disk",
            "directory root, state on a tmpfs",
            "image (overlay) root, state on a tmpfs",
        ]
        .into_iter()
        .map(|what| Variant {
            what,
            samples: Vec::new(),
        })
        .collect(),
        error: None,
    };
    let dir = work.join("overlay");
    let tmpfs = dir.join("tmpfs");
    if let Err(e) = measure(&mut bench, box_bin, &dir, &tmpfs, runs, warmup) {
        bench.error = Some(format!("{e:#}"));
    }
    // Whatever happened above: the tmpfs goes (a no-op when it was never mounted).
    let _ = Command::new("umount")
        .arg(&tmpfs)
        .stderr(Stdio::null())
        .status();
    let _ = std::fs::remove_dir_all(&dir);
    bench
}

fn measure(
    bench: &mut OverlayBench,
    box_bin: &Path,
    work: &Path,
    tmpfs: &Path,
    runs: usize,
    warmup: usize,
) -> Result<()> {
    if super::spawn::which("docker-registry").is_none() {
        super::prepare::apt_install(&["docker-registry"])?;
    }
    std::fs::create_dir_all(tmpfs)?;
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs"])
        .arg(tmpfs)
        .status()?;
    if !status.success() {
        bail!("mount a tmpfs on {}", tmpfs.display());
    }
    let root = box_tests::busybox_rootfs_at(&work.join("rootfs")).context("a busybox root")?;
    let registry = Registry::start();
    // One layer, as Docker Hub's busybox is.
    let layer = Layer::new(Tar::new().tree(&root).finish(), Compression::Gzip);
    let image = Image::build(&[layer], json!({"Cmd": ["/bin/sh"]}), host_arch(), false);
    registry.push("busybox", "bench", &image);
    let reference = format!("{}/busybox:bench", registry.host());
    let store = work.join("store");
    let mut pull = Command::new(box_bin);
    pull.arg("--store").arg(&store);
    let out = pull.args(["pull", "-q", &reference]).output()?;
    if !out.status.success() {
        bail!("box pull: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    // The same container but for its root.
    let common = "command = [\"/bin/true\"]\nuser = \"0\"\nworkdir = \"/\"\n";
    let dir_toml = work.join("dir.toml");
    std::fs::write(
        &dir_toml,
        format!("rootfs = {:?}\n{common}", root.display().to_string()),
    )?;
    let image_toml = work.join("image.toml");
    std::fs::write(&image_toml, format!("image = {reference:?}\n{common}"))?;
    let (disk_state, tmpfs_state) = (work.join("state"), tmpfs.join("state"));
    let plan = [
        (DIR_DISK, &dir_toml, &disk_state),
        (IMAGE_DISK, &image_toml, &disk_state),
        (DIR_TMPFS, &dir_toml, &tmpfs_state),
        (IMAGE_TMPFS, &image_toml, &tmpfs_state),
    ];
    for round in 0..warmup + runs {
        // Rotate which goes first: drift hits all alike.
        for k in 0..plan.len() {
            let (i, toml, state) = plan[(k + round) % plan.len()];
            let mut cmd = Command::new(box_bin);
            cmd.arg("--store").arg(&store).arg("--root").arg(state);
            cmd.arg("up").arg(toml);
            let ms = timed(&mut cmd)?;
            if round >= warmup {
                bench.variants[i].samples.push(ms);
            }
        }
    }
    Ok(())
}
/// Wall time of one `box up`, ms; its failure is the bench's.
fn timed(cmd: &mut Command) -> Result<f64> {
    let t = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("run {cmd:?}"))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        bail!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(ms)
}
