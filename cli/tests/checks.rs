//! Values `box up` would fail on at start (exit 125, no place in the file) are refused by
//! `box validate` already, each naming the file, line, column and key; and the file itself is
//! read only if it is a regular file of sane size.

mod common;

use common::run_box;

fn validate(text: &str) -> String {
    common::validate(text, &[])
}

fn with(keys: &str) -> String {
    validate(&format!(
        "name = \"web\"\ncommand = [\"/bin/true\"]\n{keys}\n"
    ))
}

#[test]
fn minus_one_is_no_uid_or_gid() {
    // (uid_t)-1 is "leave unchanged" to setresuid: the command would run as root.
    insta::assert_snapshot!("uid_minus_one", with("user = \"4294967295\""));
    insta::assert_snapshot!("gid_minus_one", with("user = \"1000:4294967295\""));
    insta::assert_snapshot!(
        "supplementary_gid_minus_one",
        with("user = \"1000:1000:5,4294967295\"")
    );
    let below = with("user = \"4294967294:4294967294\"");
    assert!(below.starts_with("exit: Some(0)"), "{below}");
}

#[test]
fn hostnames_the_kernel_refuses() {
    insta::assert_snapshot!(
        "hostname_too_long",
        with(&format!("hostname = \"{}\"", "h".repeat(65)))
    );
    let longest = with(&format!("hostname = \"{}\"", "h".repeat(64)));
    assert!(longest.starts_with("exit: Some(0)"), "{longest}");
    insta::assert_snapshot!("hostname_nul", with("hostname = \"a\\u0000b\""));
}

#[test]
fn environment_entries_the_kernel_cannot_carry() {
    insta::assert_snapshot!("env_key_with_equals", with("env = { \"A=B\" = \"x\" }"));
    insta::assert_snapshot!("env_empty_key", with("[env]\n\"\" = \"x\""));
    insta::assert_snapshot!("env_nul_value", with("env = { A = \"x\\u0000y\" }"));
}

#[test]
fn nul_in_the_command_or_workdir() {
    insta::assert_snapshot!(
        "command_nul",
        validate("command = [\"/bin/echo\", \"a\\u0000b\"]\n")
    );
    insta::assert_snapshot!("workdir_nul", with("workdir = \"/a\\u0000b\""));
}

#[test]
fn a_namespace_path_must_be_a_namespace_of_that_kind() {
    insta::assert_snapshot!(
        "namespace_not_a_namespace",
        with("[namespaces]\nnet = \"/etc/hostname\"")
    );
    insta::assert_snapshot!(
        "namespace_missing",
        with("[namespaces]\nnet = \"/nonexistent/ns\"")
    );
    // box's own uts namespace, named as a net namespace.
    insta::assert_snapshot!(
        "namespace_wrong_kind",
        with("[namespaces]\nnet = \"/proc/self/ns/uts\"")
    );
    let right = with("[namespaces]\nnet = \"/proc/self/ns/net\"");
    assert!(right.starts_with("exit: Some(0)"), "{right}");
    insta::assert_snapshot!(
        "namespace_bad_container_name",
        with("[namespaces]\nnet = \"container:../x\"")
    );
}

#[test]
fn a_mount_point_inside_the_read_only_host_root() {
    insta::assert_snapshot!(
        "tmpfs_in_host_usr",
        with("[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/usr/box-no-such-dir\"")
    );
    insta::assert_snapshot!(
        "tmpfs_in_host_etc",
        with("[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/tmp\"\n[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/etc/box/no/such\"")
    );
    // Existing directories, the writable private ones, and new top-level ones all work.
    let fine = with(
        "[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/usr\"\n\
         [[mounts]]\ntype = \"tmpfs\"\ntarget = \"/tmp/new\"\n\
         [[mounts]]\ntype = \"tmpfs\"\ntarget = \"/data/new\"",
    );
    assert!(fine.starts_with("exit: Some(0)"), "{fine}");
}

#[test]
fn the_file_must_be_a_regular_file_of_sane_size() {
    insta::assert_snapshot!("dev_zero", run_box(&["validate", "/dev/zero"], &[]));
    insta::assert_snapshot!("a_directory", run_box(&["validate", "."], &[]));
    let big = format!("command = [\"/bin/true\"]\n#{}\n", "x".repeat(1024 * 1024));
    insta::assert_snapshot!(
        "too_large",
        run_box(&["validate", "box.toml"], &[("box.toml", &big)])
    );
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("box.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_box"))
        .arg("validate")
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
}
