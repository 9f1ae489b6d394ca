//! box's developer tasks: `cargo xtask test | e2e | rootfs DIR | man [DIR] | dist | bench |
//! chaos | fuzz | layout | seccomp`.

mod bench;
mod chaos;
mod fuzz;
mod layout;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <command>

  test         install what the tests need, then run every test, the ignored ones too
               (cargo test --workspace -- --include-ignored; as root)
  e2e          build box and box-runc and run the end-to-end tests only
  rootfs DIR   build a small busybox root filesystem in DIR
  dist         build box for release, statically linked: target/release/box
  man [DIR]    build box and write a man page per command into DIR (default target/man)
  bench ...    box against runc and crun, side by side (cargo xtask bench --help)
  chaos ...    box under concurrency, kill -9, damaged state and a full disk (--help)
  fuzz ...     a short run of each fuzz target from its corpus (--help)
  layout       regenerate cli/box.order, box's functions in the order a start runs them
               (dist links them so: a start keeps fewer of box's pages; as root)
  seccomp      regenerate security/src/seccomp/default_x86_64.rs, the default seccomp
               profile compiled ahead of time (after changing the profile)";

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["test"] => {
            ensure_packages()?;
            // The end-to-end tests drive box and box-runc, which `cargo test` builds only for
            // their own crates' tests (box-oci has none that need its binary).
            cargo(&["build", "-p", "box-cli", "-p", "box-oci"])?;
            // Tests that need root are #[ignore]d where a crate's other tests do not (so that
            // `cargo test -p box-ns` works unprivileged); here, as root, they all run.
            cargo(&["test", "--workspace", "--", "--include-ignored"])
        }
        ["e2e"] => {
            ensure_packages()?;
            // box and box-runc: the end-to-end tests drive both binaries.
            cargo(&["build", "-p", "box-cli", "-p", "box-oci"])?;
            cargo(&["test", "-p", "box-tests", "--", "--include-ignored"])
        }
        ["rootfs", dir] => {
            ensure_packages()?;
            let root = busybox_rootfs(Path::new(dir))?;
            println!("busybox root filesystem in {}", root.display());
            Ok(())
        }
        ["man"] => man(&workspace_root().join("target/man")),
        ["man", dir] => man(Path::new(dir)),
        ["dist"] => {
            let bin = bench::build_box()?;
            println!("{}", bin.display());
            Ok(())
        }
        ["bench", "--help"] => {
            println!("{}", bench::USAGE);
            Ok(())
        }
        ["bench", rest @ ..] => bench::run(rest),
        ["chaos", "--help"] => {
            println!("{}", chaos::USAGE);
            Ok(())
        }
        ["chaos", rest @ ..] => chaos::run(rest),
        ["fuzz", rest @ ..] => fuzz::run(rest),
        ["layout"] => layout::run(),
        ["seccomp"] => {
            let arch = box_security::seccomp::Arch::X86_64;
            let path = workspace_root().join("security/src/seccomp/default_x86_64.rs");
            let text = box_security::seccomp::render_ready_default(arch)
                .context("the default profile does not compile without warnings")?;
            std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

/// The pages come from box itself (`box man DIR`, clap_mangen over its own command line), so
/// they describe exactly the binary built.
fn man(dir: &Path) -> Result<()> {
    cargo(&["build", "-p", "box-cli"])?;
    let bin = workspace_root().join("target/debug/box");
    let status = Command::new(&bin)
        .arg("man")
        .arg(dir)
        .status()
        .with_context(|| format!("run {}", bin.display()))?;
    if !status.success() {
        bail!("{} man {}: {status}", bin.display(), dir.display());
    }
    println!("man pages in {}", dir.display());
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("run {cargo} {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Debian packages the tests use, by the command that shows each is there: busybox for test
/// root filesystems, ldd to copy a test program's libraries into one, unshare and
/// mount/umount for the tests that call them, a registry (the CNCF distribution registry)
/// and skopeo for the image tests, umoci for the image bench.
const PACKAGES: &[(&str, &str)] = &[
    ("busybox", "busybox-static"),
    ("ldd", "libc-bin"),
    ("unshare", "util-linux"),
    ("mount", "mount"),
    // The network layer's nftables changes, and the network tests' own namespaces.
    ("nft", "nftables"),
    ("ip", "iproute2"),
    // The engines tests/tests/oci runs box-runc under (podman with conmon, containerd with
    // ctr and its runc shim, Docker's dockerd and client), and tar to hand them a root.
    ("tar", "tar"),
    ("podman", "podman"),
    ("conmon", "conmon"),
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("containerd-shim-runc-v2", "containerd"),
    ("dockerd", "docker.io"),
    // The image tests' registry, and the tools that write and read images for them.
    ("docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
];

/// Installs what is missing with apt-get (the tests run as root on a Debian machine).
fn ensure_packages() -> Result<()> {
    let mut missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(bin, _)| !in_path(bin))
        .map(|(_, pkg)| *pkg)
        .collect();
    // One package may bring several commands (containerd: containerd, ctr, the shim).
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let update = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .context("run apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed ({update})");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("run apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", missing.join(" "));
    }
    Ok(())
}

fn in_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
}

/// A root filesystem of one static busybox and its applets as links.
fn busybox_rootfs(dir: &Path) -> Result<PathBuf> {
    box_tests::busybox_rootfs_at(dir)
        .with_context(|| format!("build a busybox root filesystem in {}", dir.display()))
}
