//! Each namespace as the kernel reports it from inside the container.

use box_tests::{ns_id, ok, parse_ns_lines, Case};

const PRINT_NS: &str = r#"command = ["/bin/sh", "-c", "for f in /proc/self/ns/*; do echo \"$f $(stat -L -c %i $f)\"; done"]"#;

fn container_ns(case: &Case) -> Vec<(String, u64)> {
    let rows = parse_ns_lines(&ok(&case.up()));
    assert!(rows.len() >= 7, "expected every namespace, got {rows:?}");
    rows
}

fn host_ino(kind: &str) -> u64 {
    ns_id(&format!("/proc/self/ns/{kind}")).1
}

#[test]
fn every_default_namespace_is_new_except_user_and_time() {
    let case = Case::new("ns-default", PRINT_NS);
    for (kind, ino) in container_ns(&case) {
        let shared = matches!(kind.as_str(), "user" | "time" | "time_for_children");
        if shared {
            assert_eq!(ino, host_ino(&kind), "{kind} should be the host's");
        } else {
            assert_ne!(ino, host_ino(&kind), "{kind} should be isolated");
        }
    }
    case.assert_nothing_left();
}

#[test]
fn host_network_mode_shares_the_hosts_net_namespace() {
    let case = Case::new(
        "ns-hostnet",
        &format!("{PRINT_NS}\n[namespaces]\nnet = \"host\"\n"),
    );
    let rows = container_ns(&case);
    let net = rows.iter().find(|(k, _)| k == "net").expect("net row");
    assert_eq!(net.1, host_ino("net"));
    let uts = rows.iter().find(|(k, _)| k == "uts").expect("uts row");
    assert_ne!(uts.1, host_ino("uts"));
    case.assert_nothing_left();
}

#[test]
fn a_namespace_can_be_joined_by_path() {
    // A process of the test's own in a new uts namespace, to join.
    let mut holder = std::process::Command::new("unshare")
        .args(["--uts", "sleep", "30"])
        .spawn()
        .expect("start unshare");
    let path = format!("/proc/{}/ns/uts", holder.id());
    // unshare execs sleep once its namespace exists; wait for that.
    for _ in 0..100 {
        if ns_id(&path).1 != host_ino("uts") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let target = ns_id(&path).1;
    let case = Case::new(
        "ns-join",
        &format!("{PRINT_NS}\n[namespaces]\nuts = \"{path}\"\n"),
    );
    let rows = container_ns(&case);
    let _ = holder.kill();
    let _ = holder.wait();
    let uts = rows.iter().find(|(k, _)| k == "uts").expect("uts row");
    assert_eq!(uts.1, target);
    assert_ne!(target, host_ino("uts"));
    case.assert_nothing_left();
}

#[test]
fn the_command_is_pid_one_and_sees_only_its_own_processes() {
    let case = Case::new(
        "ns-pid",
        r#"command = ["/bin/sh", "-c", "echo $$; for p in /proc/[0-9]*; do echo ${p#/proc/}; done"]"#,
    );
    let out = ok(&case.up());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["1", "1"], "PID 1, and the only process in /proc");
    case.assert_nothing_left();
}

#[test]
fn hostname_is_the_configured_one_and_net_has_only_lo() {
    let case = Case::new(
        "ns-uts",
        "hostname = \"inside\"\ncommand = [\"/bin/sh\", \"-c\", \"hostname; ls /sys/class/net\"]\n",
    );
    assert_eq!(ok(&case.up()), "inside\nlo\n");
    case.assert_nothing_left();
}

#[test]
fn the_container_is_a_process_in_its_own_cgroup() {
    let case = Case::new(
        "ns-cgroup",
        r#"command = ["/bin/cat", "/proc/self/cgroup"]"#,
    );
    let out = ok(&case.up());
    // The cgroup namespace's root is the container's own cgroup: every line ends in "/".
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(line.ends_with(":/"), "{line}");
    }
    case.assert_nothing_left();
}

#[test]
fn a_new_user_namespace_maps_container_root_to_an_unprivileged_host_uid() {
    let case = Case::new(
        "ns-user",
        "command = [\"/bin/sh\", \"-c\", \"id -u; cat /proc/self/uid_map; stat -L -c %i /proc/self/ns/user; touch /tmp/x && echo can-write-tmp\"]\n[namespaces]\nuser = \"new\"\n",
    );
    let out = ok(&case.up());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "root inside");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    assert_ne!(lines[2].parse::<u64>().unwrap(), host_ino("user"));
    assert_eq!(lines[3], "can-write-tmp");
    case.assert_nothing_left();
}
