//! `devices` entries that box refuses, as `box validate` reports them: each error names the
//! file, line, column and the entry (`devices[1]`). Nothing here starts a container.

mod common;

fn validate_devices(list: &str) -> String {
    let text = format!("name = \"web\"\ncommand = [\"/bin/true\"]\ndevices = {list}\n");
    common::validate(&text, &[])
}

#[test]
fn good_devices_pass() {
    insta::assert_snapshot!(validate_devices(
        r#"["/dev/loop0", "/dev/zero:/dev/myzero:rw", "/dev/loop1:r", "/dev/urandom:/dev/net/rnd"]"#
    ));
}

#[test]
fn a_missing_host_device() {
    insta::assert_snapshot!(validate_devices(
        r#"["/dev/loop0", "/dev/box-no-such-device"]"#
    ));
}

#[test]
fn a_file_that_is_not_a_device() {
    insta::assert_snapshot!(validate_devices(r#"["/etc/passwd"]"#));
}

#[test]
fn a_directory_of_devices() {
    insta::assert_snapshot!(validate_devices(r#"["/dev/pts"]"#));
}

#[test]
fn a_relative_host_path() {
    insta::assert_snapshot!(validate_devices(r#"["dev/full"]"#));
}

#[test]
fn unknown_permissions() {
    insta::assert_snapshot!(validate_devices(r#"["/dev/full:/dev/f:rwx"]"#));
}

#[test]
fn an_entry_of_four_parts() {
    insta::assert_snapshot!(validate_devices(r#"["/dev/full:/dev/f:rw:m"]"#));
}

#[test]
fn a_container_path_outside_dev() {
    insta::assert_snapshot!(validate_devices(r#"["/dev/full:/tmp/full"]"#));
}

#[test]
fn a_container_path_over_a_standard_device() {
    insta::assert_snapshot!(validate_devices(r#"["/dev/full:/dev/null"]"#));
}

#[test]
fn two_devices_at_one_path() {
    insta::assert_snapshot!(validate_devices(
        r#"["/dev/full:/dev/a", "/dev/zero:/dev/a"]"#
    ));
}

#[test]
fn a_string_instead_of_a_list() {
    insta::assert_snapshot!(validate_devices(r#""/dev/full""#));
}
