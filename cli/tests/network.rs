//! `[network]` values that box refuses, as `box validate` reports them: each error names the
//! file, line, column and key. Nothing here starts a container or touches the host's network.

mod common;

fn validate_network(table: &str) -> String {
    let text = format!("name = \"web\"\ncommand = [\"/bin/true\"]\n{table}\n");
    common::validate(&text, &[])
}

#[test]
fn a_network_name_too_long_for_a_bridge() {
    insta::assert_snapshot!(validate_network(
        "[network]\nname = \"a-very-long-network\""
    ));
}

#[test]
fn a_network_name_with_a_slash() {
    insta::assert_snapshot!(validate_network("[network]\nname = \"../etc\""));
}

#[test]
fn a_subnet_with_host_bits() {
    insta::assert_snapshot!(validate_network("[network]\nsubnet = \"10.88.0.1/16\""));
}

#[test]
fn a_subnet_too_small_for_a_container() {
    insta::assert_snapshot!(validate_network("[network]\nsubnet = \"10.88.0.0/31\""));
}

#[test]
fn a_port_that_is_not_one() {
    insta::assert_snapshot!(validate_network(
        "[network]\nports = [\"8080:80\", \"80:http\"]"
    ));
}

#[test]
fn a_host_port_published_twice_in_one_file() {
    insta::assert_snapshot!(validate_network(
        "[network]\nports = [\"8080:80\", \"127.0.0.1:8080:81\"]"
    ));
}

#[test]
fn an_unknown_mode() {
    insta::assert_snapshot!(validate_network("[network]\nmode = \"nat\""));
}

#[test]
fn ports_without_a_bridge() {
    insta::assert_snapshot!(validate_network(
        "[network]\nmode = \"host\"\nports = [\"8080:80\"]"
    ));
}

#[test]
fn a_mode_that_contradicts_namespaces_net() {
    insta::assert_snapshot!(validate_network(
        "[namespaces]\nnet = \"host\"\n[network]\nmode = \"bridge\""
    ));
}

#[test]
fn host_in_both_places_is_no_contradiction() {
    insta::assert_snapshot!(validate_network(
        "[namespaces]\nnet = \"host\"\n[network]\nmode = \"host\""
    ));
}

#[test]
fn joining_a_container_that_does_not_run() {
    insta::assert_snapshot!(validate_network("[network]\nmode = \"container:db\""));
}
