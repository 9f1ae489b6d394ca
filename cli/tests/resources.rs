//! `[resources]` values that box refuses, as `box validate` reports them: each error names the
//! file, line and key. Nothing here starts a container; the host's CPU list in messages is
//! replaced by `[CPUS]` / `[N]` so the snapshots hold on any machine.

mod common;

fn validate_resources(resources: &str) -> String {
    let text = format!("name = \"web\"\ncommand = [\"/bin/true\"]\n[resources]\n{resources}\n");
    host_neutral(&common::validate(&text, &[]))
}

/// Replace this host's online CPU list and count with placeholders.
fn host_neutral(text: &str) -> String {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let online = online.trim();
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = text.replace(
        &format!("to {n} (this host has {n} CPUs)"),
        "to [N] (this host has [N] CPUs)",
    );
    if !online.is_empty() {
        out = out.replace(&format!("(online CPUs: {online})"), "(online CPUs: [CPUS])");
    }
    out
}

#[test]
fn memory_below_dockers_minimum() {
    insta::assert_snapshot!(validate_resources("memory = \"1m\""));
}

#[test]
fn memory_with_an_unknown_unit() {
    insta::assert_snapshot!(validate_resources("memory = \"64q\""));
}

#[test]
fn memory_swap_below_memory() {
    insta::assert_snapshot!(validate_resources(
        "memory = \"64m\"\nmemory_swap = \"32m\""
    ));
}

#[test]
fn zero_cpus() {
    insta::assert_snapshot!(validate_resources("cpus = 0"));
}

#[test]
fn more_cpus_than_the_host_has() {
    insta::assert_snapshot!(validate_resources("cpus = 999"));
}

#[test]
fn a_cpuset_outside_the_hosts_cpus() {
    insta::assert_snapshot!(validate_resources("cpuset_cpus = \"4095\""));
}

#[test]
fn a_cpuset_that_is_not_a_list() {
    insta::assert_snapshot!(validate_resources("cpuset_cpus = \"two\""));
}

#[test]
fn cpu_shares_out_of_range() {
    insta::assert_snapshot!(validate_resources("cpu_shares = 1"));
}

#[test]
fn zero_pids() {
    insta::assert_snapshot!(validate_resources("pids = 0"));
}

#[test]
fn good_values_pass() {
    insta::assert_snapshot!(validate_resources(
        "memory = \"200m\"\nmemory_swap = \"400m\"\ncpus = 0.5\ncpu_shares = 512\ncpuset_cpus = \"0\"\npids = 128"
    ));
}

#[test]
fn pids_above_the_kernels_limit() {
    // 4194304 (PID_MAX_LIMIT) is the most pids.max takes; one more is EINVAL at start.
    insta::assert_snapshot!(validate_resources("pids = 4194305"));
    let at_limit = validate_resources("pids = 4194304");
    assert!(at_limit.starts_with("exit: Some(0)"), "{at_limit}");
}
