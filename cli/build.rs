//! Builds box-init (`init/main.rs`), the static init `box run --init` binds into a container,
//! with the same rustc that builds box: static, so it runs in any root filesystem; embedded in
//! box by `src/init.rs`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=init/main.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-name",
            "box_init",
            "--target",
            &target,
        ])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "target-feature=+crt-static", "-C", "codegen-units=1"])
        .arg("-o")
        .arg(out.join("box-init"))
        .arg("init/main.rs")
        .status()
        .expect("run rustc for box-init");
    assert!(
        status.success(),
        "rustc failed to build box-init (init/main.rs)"
    );
    // Its content names its copy on the host: a new box-init never meets an old copy.
    let bytes = std::fs::read(out.join("box-init")).expect("read box-init");
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    println!("cargo:rustc-env=BOX_INIT_HASH={hash:016x}");
}
