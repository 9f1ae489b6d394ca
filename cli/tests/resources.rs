//! `[resources]` values that box refuses, as `box validate` reports them: each error names the
//! file, line and key. Nothing here starts a container. The host's CPUs in messages are
//! redacted (`[N]` CPUs, online `[CPUS]`), so that the snapshots hold on any machine.

mod common;

fn validate_resources(resources: &str) -> String {
    let text = format!("name = \"web\"\ncommand = [\"/bin/true\"]\n[resources]\n{resources}\n");
    common::validate(&text, &[])
}

/// Snapshots `$text` with this host's CPU count and online list redacted.
macro_rules! assert_host_neutral {
    ($text:expr) => {
        insta::with_settings!({filters => vec![
            (r"to \d+ \(this host has \d+ CPUs\)", "to [N] (this host has [N] CPUs)"),
            (r"\(online CPUs: [0-9,-]+\)", "(online CPUs: [CPUS])"),
        ]}, {
            insta::assert_snapshot!($text);
        })
    };
}

#[test]
fn memory_below_dockers_minimum() {
    assert_host_neutral!(validate_resources("memory = \"1m\""));
}

#[test]
fn memory_with_an_unknown_unit() {
    assert_host_neutral!(validate_resources("memory = \"64q\""));
}

#[test]
fn memory_swap_below_memory() {
    assert_host_neutral!(validate_resources(
        "memory = \"64m\"\nmemory_swap = \"32m\""
    ));
}

#[test]
fn zero_cpus() {
    assert_host_neutral!(validate_resources("cpus = 0"));
}

#[test]
fn more_cpus_than_the_host_has() {
    assert_host_neutral!(validate_resources("cpus = 999"));
}

#[test]
fn a_cpuset_outside_the_hosts_cpus() {
    assert_host_neutral!(validate_resources("cpuset_cpus = \"4095\""));
}

#[test]
fn a_cpuset_that_is_not_a_list() {
    assert_host_neutral!(validate_resources("cpuset_cpus = \"two\""));
}

#[test]
fn cpu_shares_out_of_range() {
    assert_host_neutral!(validate_resources("cpu_shares = 1"));
}

#[test]
fn zero_pids() {
    assert_host_neutral!(validate_resources("pids = 0"));
}

#[test]
fn good_values_pass() {
    assert_host_neutral!(validate_resources(
        "memory = \"200m\"\nmemory_swap = \"400m\"\ncpus = 0.5\ncpu_shares = 512\ncpuset_cpus = \"0\"\npids = 128"
    ));
}

#[test]
fn pids_above_the_kernels_limit() {
    // 4194304 (PID_MAX_LIMIT) is the most pids.max takes; one more is EINVAL at start.
    assert_host_neutral!(validate_resources("pids = 4194305"));
    let at_limit = validate_resources("pids = 4194304");
    assert!(at_limit.starts_with("exit: Some(0)"), "{at_limit}");
}
