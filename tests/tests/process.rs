//! The container's process: exit codes, exec errors, signals, and its end when box dies.

use std::time::{Duration, Instant};

use box_tests::{cgroup_dirs, stderr, Case};

#[test]
fn exit_code_propagates() {
    let case = Case::new("proc-exit", r#"command = ["/bin/sh", "-c", "exit 42"]"#);
    assert_eq!(case.up().status.code(), Some(42));
    case.assert_nothing_left();
}

#[test]
fn death_by_signal_is_128_plus_the_signal() {
    // Not PID 1 (which the kernel shields from its own namespace's signals): share the host's
    // pid namespace for this one.
    let case = Case::new(
        "proc-signal",
        "command = [\"/bin/sh\", \"-c\", \"kill -TERM $$\"]\n[namespaces]\npid = \"host\"\n",
    );
    assert_eq!(case.up().status.code(), Some(128 + 15));
    case.assert_nothing_left();
}

#[test]
fn a_missing_command_is_127_with_a_clear_message() {
    let case = Case::new("proc-nope", r#"command = ["/bin/nope"]"#);
    let out = case.up();
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out).trim(),
        "box: exec \"/bin/nope\" in container: No such file or directory"
    );
    case.assert_nothing_left();
}

#[test]
fn a_command_that_is_not_executable_is_126() {
    let case = Case::new("proc-noexec", "");
    std::fs::create_dir(case.path("data")).unwrap();
    std::fs::write(case.path("data/script"), "#!/bin/sh\necho ran\n").unwrap();
    let body = "command = [\"/data/script\"]\n[[mounts]]\ntype = \"bind\"\nsource = \"data\"\ntarget = \"/data\"\n";
    std::fs::write(case.file(), format!("name = \"{}\"\n{body}", case.name)).unwrap();
    let out = case.up();
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "box: exec \"/data/script\" in container: Permission denied"
    );
    case.assert_nothing_left();
}

#[test]
fn a_killed_box_leaves_no_container_process_behind() {
    let case = Case::new("proc-killed", r#"command = ["/bin/sleep", "1000"]"#);
    let mut child = case.command(&["up"]).spawn().expect("start box");
    let pids = wait_for_container_pids(&case.name);
    assert!(!pids.is_empty(), "the container never started");
    // SAFETY: kill only sends a signal to the box process this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids {
        assert!(!alive(pid), "container process {pid} outlived box");
    }
    // Its now-empty cgroup has no owner any more: the next `box up` sweeps it away.
    let next = Case::new("proc-sweeper", r#"command = ["/bin/true"]"#);
    box_tests::ok(&next.up());
    next.assert_nothing_left();
    // Its record stays, truthfully "dead", until `box rm`, as Docker keeps a container's.
    let ps = std::process::Command::new(box_tests::box_bin())
        .args(["ps", "-a"])
        .output()
        .expect("run box ps");
    let row = box_tests::ok(&ps)
        .lines()
        .find(|l| l.contains(&case.name))
        .map(str::to_string);
    assert!(
        row.as_deref().is_some_and(|r| r.contains("dead")),
        "{row:?}"
    );
    case.rm();
    case.assert_nothing_left();
}

/// The pids in the container's cgroup (any hierarchy), once there are some.
fn wait_for_container_pids(name: &str) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        for dir in cgroup_dirs(name) {
            if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
                let pids: Vec<i32> = text.lines().filter_map(|l| l.parse().ok()).collect();
                if !pids.is_empty() {
                    return pids;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Vec::new()
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose; its stat state is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn no_file_descriptor_of_box_leaks_into_the_container() {
    let case = Case::new(
        "proc-fds",
        r#"command = ["/bin/sh", "-c", "cd /proc/self/fd && echo *"]"#,
    );
    // An inherited, non-close-on-exec fd 7 in box's own table, as a careless caller leaves.
    let inner = format!(
        "exec 7</etc/hostname; exec {} up {}",
        box_tests::box_bin().display(),
        case.file().display()
    );
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", &inner])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run box through sh");
    // 0-2, and the directory fd the shell's glob itself reads /proc/self/fd through.
    let fds = box_tests::ok(&out);
    let fds: Vec<&str> = fds.split_whitespace().collect();
    assert_eq!(&fds[..3], ["0", "1", "2"], "{fds:?}");
    assert!(fds.len() <= 4 && !fds.contains(&"7"), "leaked fds: {fds:?}");
    case.assert_nothing_left();
}

/// The live processes (zombies are dead) in the container's cgroup, in any hierarchy.
fn live_container_pids(name: &str) -> Vec<i32> {
    cgroup_dirs(name)
        .into_iter()
        .filter_map(|dir| std::fs::read_to_string(dir.join("cgroup.procs")).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.parse().ok())
                .collect::<Vec<i32>>()
        })
        .filter(|pid| alive(*pid))
        .collect()
}

#[test]
fn box_killed_at_any_point_of_the_start_leaves_no_container_process() {
    // Each start changes the child's uid or gid differently, and each change clears its
    // parent-death signal: none, a user switch, a new user namespace, both.
    let configs = [
        "",
        "user = \"1000\"\n",
        "[namespaces]\nuser = \"new\"\n",
        "user = \"1000\"\n[namespaces]\nuser = \"new\"\n",
    ];
    for round in 0..40u64 {
        let body = format!(
            "command = [\"/bin/sleep\", \"1000\"]\n{}",
            configs[round as usize % configs.len()]
        );
        let case = Case::new(&format!("pdeath{round}"), &body);
        let mut child = case.command(&["up"]).spawn().expect("start box");
        // Moves the kill through box's start (about 150 ms for a debug build, from spawn to
        // a running command) and past it, round by round; no assertion depends on where it
        // lands.
        std::thread::sleep(Duration::from_millis(4 * round));
        // SAFETY: kill only sends a signal to the box process this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut left = live_container_pids(&case.name);
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            left = live_container_pids(&case.name);
        }
        assert!(left.is_empty(), "round {round}: {left:?} outlived box");
        // A record, if box got as far as writing one, and the cgroup go with `rm -f`.
        let _ = std::process::Command::new(box_tests::box_bin())
            .args(["rm", "-f", &case.name])
            .output();
        // Killed between taking the name's lock and renaming its record into place, box
        // leaves a state directory with no `state.json` (the lock, maybe a temporary file),
        // which `box rm` does not know: a gap of the state layer, not of what this test checks.
        let state = box_tests::state_root().join(&case.name);
        if state.is_dir() && !state.join("state.json").exists() {
            let _ = std::fs::remove_dir_all(&state);
        }
        case.assert_nothing_left();
    }
}
