//! Files of several containers (`[containers.NAME]`), as `box validate` reports them: the start
//! order, and errors that name the file, the line, the column and the full key
//! (`containers.web.resources.memory`). Nothing here starts a container.

mod common;

fn validate(text: &str) -> String {
    common::validate(text, &[])
}

/// c2 joins c1's net namespace and comes first in the file: c1 starts first.
const JOINED: &str = r#"
[containers.c2]
command = ["/bin/sleep", "1000"]
[containers.c2.namespaces]
net = "container:c1"

[containers.c1]
command = ["/bin/sleep", "1000"]
"#;

#[test]
fn joins_decide_the_start_order() {
    insta::assert_snapshot!(validate(JOINED));
}

#[test]
fn independent_containers_start_in_file_order() {
    insta::assert_snapshot!(validate(
        "[containers.zeta]\ncommand = [\"/bin/true\"]\n[containers.alpha]\ncommand = [\"/bin/true\"]\n"
    ));
}

#[test]
fn one_container_table_is_a_single_container() {
    insta::assert_snapshot!(validate("[containers.web]\ncommand = [\"/bin/true\"]\n"));
}

#[test]
fn a_cycle_is_named_with_its_containers() {
    insta::assert_snapshot!(validate(
        r#"
[containers.a]
command = ["/bin/true"]
namespaces.net = "container:b"
[containers.b]
command = ["/bin/true"]
namespaces.ipc = "container:c"
[containers.c]
command = ["/bin/true"]
namespaces.pid = "container:a"
"#
    ));
}

#[test]
fn joining_itself_is_a_cycle() {
    insta::assert_snapshot!(validate(
        "[containers.a]\ncommand = [\"/bin/true\"]\n[containers.a.namespaces]\nuts = \"container:a\"\n"
    ));
}

#[test]
fn a_missing_target_is_named() {
    insta::assert_snapshot!(validate(
        "[containers.web]\ncommand = [\"/bin/true\"]\n[containers.web.namespaces]\nnet = \"container:db\"\n[containers.other]\ncommand = [\"/bin/true\"]\n"
    ));
}

#[test]
fn mixing_the_two_forms_is_an_error() {
    insta::assert_snapshot!(validate(
        "command = [\"/bin/true\"]\n[containers.web]\ncommand = [\"/bin/true\"]\n"
    ));
    insta::assert_snapshot!(validate(
        "[containers.web]\ncommand = [\"/bin/true\"]\n[resources]\nmemory = \"1g\"\n"
    ));
}

#[test]
fn errors_name_the_full_key() {
    let two = |body: &str| {
        validate(&format!(
            "[containers.db]\ncommand = [\"/bin/true\"]\n\n[containers.web]\n{body}\n"
        ))
    };
    insta::assert_snapshot!(two(
        "command = [\"/bin/true\"]\n[containers.web.resources]\nmemory = \"10x\"\n"
    ));
    insta::assert_snapshot!(two(
        "command = [\"/bin/true\"]\n[containers.web.resources]\nmemroy = \"10m\"\n"
    ));
    insta::assert_snapshot!(two("comand = [\"/bin/true\"]"));
    insta::assert_snapshot!(two("command = [\"/bin/true\"]\nrootfs = \"nope\""));
    insta::assert_snapshot!(two(
        "command = [\"/bin/true\"]\n[[containers.web.mounts]]\ntype = \"tmpfs\"\ntarget = \"tmp\"\n"
    ));
    insta::assert_snapshot!(two(
        "command = [\"/bin/true\"]\n[containers.web.security]\ncapabilities = { add = [\"NET_ADMN\"] }\n"
    ));
}

#[test]
fn a_missing_command_is_named() {
    insta::assert_snapshot!(validate(
        "[containers.db]\ncommand = [\"/bin/true\"]\n[containers.web]\nhostname = \"w\"\n"
    ));
}

#[test]
fn names_are_the_table_keys() {
    insta::assert_snapshot!(validate(
        "[containers.web]\nname = \"web\"\ncommand = [\"/bin/true\"]\n[containers.db]\nname = \"database\"\ncommand = [\"/bin/true\"]\n"
    ));
    insta::assert_snapshot!(validate(
        "[containers.web]\ncommand = [\"/bin/true\"]\n[containers.\"-db\"]\ncommand = [\"/bin/true\"]\n"
    ));
}

#[test]
fn several_containers_have_no_terminal() {
    insta::assert_snapshot!(validate(
        "[containers.web]\ncommand = [\"/bin/true\"]\ntty = true\n[containers.db]\ncommand = [\"/bin/true\"]\n"
    ));
}

#[test]
fn an_empty_containers_table() {
    insta::assert_snapshot!(validate("[containers]\n"));
    insta::assert_snapshot!(validate("containers = [\"web\"]\n"));
}
