//! `rootfs` values that `box validate` refuses: the host's own root directory, whether named
//! as "/", through a symlink or as a bind mount of it (the library refuses it again when the
//! container starts: see tests/tests/attacks/rootfs.rs).

mod common;

use common::{run_box, validate};

const TRUE: &str = "command = [\"/bin/true\"]\n";

#[test]
fn the_hosts_root_is_refused() {
    insta::assert_snapshot!(validate(&format!("{TRUE}rootfs = \"/\"\n"), &[]));
}

#[test]
fn a_symlink_to_the_hosts_root_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink("/", dir.path().join("hostroot")).expect("symlink");
    std::fs::write(
        dir.path().join("box.toml"),
        format!("name = \"web\"\n{TRUE}rootfs = \"hostroot\"\n"),
    )
    .expect("write box.toml");
    let file = dir.path().join("box.toml");
    let out = run_box(&["validate", file.to_str().expect("utf-8")], &[]);
    insta::assert_snapshot!(out.replace(&dir.path().display().to_string(), "[TMP]"));
}
