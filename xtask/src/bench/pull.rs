//! Pull and unpack of a multi-layer image from a local registry: `box pull` against
//! `skopeo copy` (registry to an OCI layout) followed by `umoci unpack` (layout to a root
//! filesystem), Debian's, of the same image from the same registry. Goal (issue 13): box ≤ 0.7×.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::registry::Registry;
use serde_json::{json, Value};

use super::stats::{self, round3, Summary};

/// One run of the comparison.
pub struct PullBench {
    pub image: String,
    pub box_pull: Vec<Took>,
    pub skopeo: Vec<Took>,
    pub umoci: Vec<Took>,
    pub error: Option<String>,
}

impl PullBench {
    fn walls(v: &[Took]) -> Vec<f64> {
        v.iter().map(|t| t.wall).collect()
    }

    fn cpus(v: &[Took]) -> Vec<f64> {
        v.iter().map(|t| t.cpu).collect()
    }

    fn theirs(&self) -> Vec<Took> {
        self.skopeo
            .iter()
            .zip(&self.umoci)
            .map(|(a, b)| Took {
                wall: a.wall + b.wall,
                cpu: a.cpu + b.cpu,
            })
            .collect()
    }

    /// box's median wall time over skopeo's + umoci's.
    pub fn ratio(&self) -> Option<f64> {
        let ours = stats::summarize(&Self::walls(&self.box_pull))?.median;
        Some(ours / stats::summarize(&Self::walls(&self.theirs()))?.median)
    }

    pub fn print(&self) {
        println!(
            "\npull + unpack of {} from a local registry (ms, {} rounds; CPU = user + system)",
            self.image,
            self.box_pull.len()
        );
        if let Some(e) = &self.error {
            println!("  failed: {e}");
            return;
        }
        let line = |what: &str, v: &[Took]| match (
            stats::summarize(&Self::walls(v)),
            stats::summarize(&Self::cpus(v)),
        ) {
            (Some(w), Some(c)) => println!(
                "  {what:<32} median {:>8.1}  min {:>8.1}  max {:>8.1}  CPU {:>8.1}",
                w.median, w.min, w.max, c.median
            ),
            _ => println!("  {what:<32} no samples"),
        };
        line("box pull", &self.box_pull);
        line("skopeo copy (to an OCI layout)", &self.skopeo);
        line("umoci unpack (to a rootfs)", &self.umoci);
        line("skopeo copy + umoci unpack", &self.theirs());
        if let Some(r) = self.ratio() {
            println!("  box / (skopeo + umoci)           {r:.2}x");
        }
    }

    pub fn to_json(&self) -> Value {
        let s = |v: &[Took]| {
            json!({
                "wall": stats::summarize(&Self::walls(v)).map(Summary::to_json),
                "cpu": stats::summarize(&Self::cpus(v)).map(Summary::to_json),
            })
        };
        json!({
            "image": self.image,
            "box_pull": s(&self.box_pull),
            "skopeo_copy": s(&self.skopeo),
            "umoci_unpack": s(&self.umoci),
            "skopeo_plus_umoci": s(&self.theirs()),
            "ratio": self.ratio().map(round3),
            "error": self.error,
        })
    }
}

pub fn run(box_bin: &Path, work: &Path, rounds: usize) -> PullBench {
    let mut bench = PullBench {
        image: String::new(),
        box_pull: Vec::new(),
        skopeo: Vec::new(),
        umoci: Vec::new(),
        error: None,
    };
    if let Err(e) = measure(&mut bench, box_bin, &work.join("pull"), rounds) {
        bench.error = Some(format!("{e:#}"));
    }
    let _ = std::fs::remove_dir_all(work.join("pull"));
    bench
}

fn measure(bench: &mut PullBench, box_bin: &Path, work: &Path, rounds: usize) -> Result<()> {
    let missing: Vec<&str> = ["docker-registry", "skopeo", "umoci"]
        .into_iter()
        .filter(|b| super::spawn::which(b).is_none())
        .collect();
    if !missing.is_empty() {
        super::prepare::apt_install(&missing)?;
    }
    std::fs::create_dir_all(work)?;
    let registry = Registry::start();
    eprintln!("bench: writing and pushing the pull bench's image");
    let (image, about) = bench_image(work)?;
    registry.push("bench", "1", &image);
    bench.image = about;
    let reference = format!("{}/bench:1", registry.host());
    let (store, layout, bundle) = (work.join("store"), work.join("oci"), work.join("bundle"));
    // One unmeasured round of each: the registry's files in the page cache for both.
    for round in 0..=rounds {
        let clean = || -> Result<()> {
            for d in [&store, &layout, &bundle] {
                if d.exists() {
                    std::fs::remove_dir_all(d)
                        .with_context(|| format!("remove {}", d.display()))?;
                }
            }
            Ok(())
        };
        let box_first = round & 1 == 0;
        let err = work.join("stderr");
        let box_run = || -> Result<Took> {
            clean()?;
            timed(
                Command::new(box_bin)
                    .arg("--store")
                    .arg(&store)
                    .args(["pull", "-q", &reference]),
                &err,
            )
        };
        let theirs = || -> Result<(Took, Took)> {
            clean()?;
            let copy = timed(
                Command::new("skopeo")
                    .args(["--insecure-policy", "copy", "--src-tls-verify=false"])
                    .arg(format!("docker://{reference}"))
                    .arg(format!("oci:{}:bench", layout.display())),
                &err,
            )?;
            let unpack = timed(
                Command::new("umoci")
                    .args(["unpack", "--image"])
                    .arg(format!("{}:bench", layout.display()))
                    .arg(&bundle),
                &err,
            )?;
            Ok((copy, unpack))
        };
        let (ours, (copy, unpack)) = if box_first {
            let a = box_run()?;
            (a, theirs()?)
        } else {
            let b = theirs()?;
            (box_run()?, b)
        };
        if round > 0 {
            bench.box_pull.push(ours);
            bench.skopeo.push(copy);
            bench.umoci.push(unpack);
        }
    }
    clean_all(&[&store, &layout, &bundle]);
    Ok(())
}

fn clean_all(dirs: &[&PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Wall and CPU (user + system) time of one command, ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Took {
    pub wall: f64,
    pub cpu: f64,
}

/// Runs `cmd` to its end, timed; its stderr goes to `err_file`, shown when it fails.
fn timed(cmd: &mut Command, err_file: &Path) -> Result<Took> {
    let err = std::fs::File::create(err_file)?;
    let t = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .with_context(|| format!("run {cmd:?}"))?;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills; the pid is our child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the two locals.
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    if rc < 0 {
        bail!("wait for {cmd:?}: {}", std::io::Error::last_os_error());
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let text = std::fs::read_to_string(err_file).unwrap_or_default();
        bail!("{cmd:?} failed (wait status {status}): {}", text.trim());
    }
    let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1000.0 + tv.tv_usec as f64 / 1000.0;
    Ok(Took {
        wall,
        cpu: ms(usage.ru_utime) + ms(usage.ru_stime),
    })
}

/// The image: a busybox root, a layer of 3000 small text files, one of large binary-like
/// files, and one that deletes, replaces and adds files; every layer gzip-compressed (level
/// 6, as Docker's). Generated from a fixed seed, so every run pulls the same bytes.
fn bench_image(work: &Path) -> Result<(Image, String)> {
    let root =
        box_tests::busybox_rootfs_at(&work.join("busybox")).context("build a busybox root")?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = Tar::new();
    for i in 0..3000 {
        let len = 1024 + (rng.next() % (31 * 1024)) as usize;
        text = text.file(
            &format!("usr/share/bench/d{:02}/f{i:04}.txt", i % 30),
            &words(&mut rng, len),
        );
    }
    let mut bin = Tar::new();
    for i in 0..8 {
        bin = bin.file(
            &format!("usr/lib/bench/lib{i}.so"),
            &binary(&mut rng, 5 << 20),
        );
    }
    let mut top = Tar::new();
    for i in 0..100 {
        top = top.file(
            &format!("usr/share/bench/d{:02}/.wh.f{i:04}.txt", i % 30),
            b"",
        );
    }
    for i in 0..200 {
        top = top.file(&format!("etc/bench/conf{i}"), &words(&mut rng, 2048));
    }
    let tars = [
        Tar::new().tree(&root).finish(),
        text.finish(),
        bin.finish(),
        top.finish(),
    ];
    let size: usize = tars.iter().map(Vec::len).sum();
    let layers: Vec<Layer> = tars
        .into_iter()
        .map(|t| Layer::new(t, Compression::Gzip))
        .collect();
    let image = Image::build(&layers, json!({"Cmd": ["/bin/sh"]}), host_arch(), true);
    let blobs: usize = image.layers.iter().map(Vec::len).sum();
    let about = format!(
        "a 4-layer image ({:.1} MB of tar, {:.1} MB gzip-compressed, 3,700 files)",
        size as f64 / 1e6,
        blobs as f64 / 1e6
    );
    Ok((image, about))
}

/// Text of words from a small vocabulary: compresses like source and documentation.
fn words(rng: &mut Rng, len: usize) -> Vec<u8> {
    const VOCABULARY: &[&str] = &[
        "the",
        "container",
        "kernel",
        "namespace",
        "cgroup",
        "layer",
        "image",
        "registry",
        "fn",
        "let",
        "return",
        "struct",
        "impl",
        "process",
        "signal",
        "memory",
        "file",
        "system",
        "mount",
        "overlay",
        "root",
        "user",
        "group",
        "network",
        "device",
        "capability",
        "seccomp",
        "filter",
        "{",
        "}",
        "(",
        ")",
        ";",
        "=",
        "\n",
    ];
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        out.extend_from_slice(
            VOCABULARY[(rng.next() % VOCABULARY.len() as u64) as usize].as_bytes(),
        );
        out.push(b' ');
    }
    out.truncate(len);
    out
}

/// Half noise, half repeated blocks: compresses about as well as machine code.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let block: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    while out.len() < len {
        if rng.next() & 1 == 0 {
            out.extend(std::iter::repeat_with(|| rng.next() as u8).take(4096));
        } else {
            out.extend_from_slice(&block);
        }
    }
    out.truncate(len);
    out
}

/// xorshift64*, seeded: the same image every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
