//! The cli's own output: help and every kind of box.toml error, as insta snapshots. None of
//! these start a container.

mod common;

use common::run_box;

fn validate(text: &str) -> String {
    common::validate(text, &[])
}

#[test]
fn help() {
    insta::assert_snapshot!(run_box(&["--help"], &[]));
    insta::assert_snapshot!(run_box(&["up", "--help"], &[]));
}

#[test]
fn version() {
    let out = run_box(&["--version"], &[]);
    assert!(
        out.contains(&format!("box {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
}

#[test]
fn a_valid_file() {
    insta::assert_snapshot!(validate("name = \"web\"\ncommand = [\"/bin/true\"]\n"));
}

#[test]
fn a_misspelt_key_is_named_with_a_suggestion() {
    insta::assert_snapshot!(validate("name = \"web\"\ncomand = [\"/bin/true\"]\n"));
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\n[resources]\nmemroy = \"10m\"\n"
    ));
}

#[test]
fn a_wrong_type_is_named() {
    insta::assert_snapshot!(validate("command = \"/bin/true\"\n"));
    insta::assert_snapshot!(validate("command = [\"/bin/true\"]\ntty = \"yes\"\n"));
}

#[test]
fn a_missing_command_is_named() {
    insta::assert_snapshot!(validate("name = \"web\"\n"));
}

#[test]
fn a_missing_rootfs_directory_is_named() {
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\nrootfs = \"does-not-exist\"\n"
    ));
}

#[test]
fn bad_values_are_named() {
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\n[namespaces]\nnet = \"bridge\"\n"
    ));
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\n[resources]\nmemory = \"10x\"\n"
    ));
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\n[[mounts]]\ntype = \"tmpfs\"\ntarget = \"relative\"\n"
    ));
    insta::assert_snapshot!(validate("name = \"a/b\"\ncommand = [\"/bin/true\"]\n"));
}

#[test]
fn a_syntax_error_is_located() {
    insta::assert_snapshot!(validate("command = [\"/bin/true\"\n"));
}

#[test]
fn a_missing_file_is_named() {
    insta::assert_snapshot!(run_box(&["validate", "nope.toml"], &[]));
}
