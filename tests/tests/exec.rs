//! `box exec`: a process started in a running container sees what the container sees and is
//! held by the same security settings.

use box_tests::{ok, stderr, Case, StateRoot};

fn running(root: &mut StateRoot, prefix: &str, extra: &str) -> String {
    let case = Case::new(
        prefix,
        &format!("hostname = \"exec-host\"\ncommand = [\"/bin/sleep\", \"1000\"]\n{extra}"),
    );
    root.up(&case)
}

#[test]
fn exec_joins_the_containers_namespaces_cgroup_and_root() {
    let mut root = StateRoot::new();
    let name = running(&mut root, "exec-join", "");
    let pid = root.pid(&name);
    let script = "hostname; echo $$; for p in /proc/[0-9]*; do echo ${p#/proc/}; done | sort -n | head -1; \
                  for k in net pid mnt uts ipc cgroup; do stat -L -c \"$k %i\" /proc/self/ns/$k; done; \
                  cut -d: -f3 /proc/self/cgroup | sort -u";
    let out = ok(&root.run(&["exec", &name, "--", "/bin/sh", "-c", script]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "exec-host");
    assert_ne!(
        lines[1], "1",
        "not the container's PID 1 but in its pid namespace"
    );
    assert_eq!(lines[2], "1", "the container's PID 1 is visible");
    for line in &lines[3..9] {
        let (kind, ino) = line.split_once(' ').expect("kind inode");
        let theirs = box_tests::ns_id(&format!("/proc/{pid}/ns/{kind}")).1;
        assert_eq!(
            ino.parse::<u64>().unwrap(),
            theirs,
            "{kind} is the container's"
        );
    }
    assert_eq!(
        &lines[9..],
        ["/"],
        "inside the container's cgroup namespace root"
    );
}

#[test]
fn exec_applies_the_containers_security() {
    let mut root = StateRoot::new();
    let name = running(
        &mut root,
        "exec-sec",
        "[security]\ncapabilities = { drop = [\"ALL\"] }\nno_new_privileges = true\n",
    );
    let out = ok(&root.run(&[
        "exec",
        &name,
        "--",
        "/bin/grep",
        "-E",
        "^(CapEff|CapBnd|NoNewPrivs|Seccomp):",
        "/proc/self/status",
    ]));
    let fields: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        fields,
        [
            ["CapEff:", "0000000000000000"],
            ["CapBnd:", "0000000000000000"],
            ["NoNewPrivs:", "1"],
            ["Seccomp:", "2"],
        ]
    );
}

#[test]
fn exec_errors_and_exit_codes_propagate() {
    let mut root = StateRoot::new();
    let name = running(&mut root, "exec-codes", "");
    let out = root.run(&["exec", &name, "--", "/bin/sh", "-c", "exit 9"]);
    assert_eq!(out.status.code(), Some(9));
    let out = root.run(&["exec", &name, "--", "/bin/nope"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out).trim(),
        "box: exec \"/bin/nope\" in container: No such file or directory"
    );
    let out = root.run(&["exec", "no-such-container", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no-such-container"),
        "{}",
        stderr(&out)
    );
}
