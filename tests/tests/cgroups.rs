//! `[resources]` end to end: the limits box writes are the ones the kernel enforces and
//! reports, read on the host from the container's cgroup files while it runs, and nothing of
//! the cgroup remains afterwards.

#[path = "cgroups/support.rs"]
mod support;

#[path = "cgroups/v1_after_go.rs"]
mod v1_after_go;

use std::time::{Duration, Instant};

use box_tests::{ok, stderr, stdout, unique_name};
use support::{
    assert_oom_killed, case, online_cpus, redacted, run_box, sweep, wait_until, Background, Knobs,
    HOLDS_64M, UNTIL_DONE,
};

#[test]
fn a_container_over_its_memory_limit_is_oom_killed_and_box_exits_137() {
    // Swap is capped too, so only memory counts.
    let case = case(
        "cg-oom",
        HOLDS_64M,
        "memory = \"32m\"\nmemory_swap = \"32m\"",
    );
    assert_oom_killed(&case.up());
    case.assert_nothing_left();
}

#[test]
fn the_same_allocation_under_a_larger_limit_survives() {
    let case = case("cg-no-oom", HOLDS_64M, "memory = \"256m\"");
    assert_eq!(ok(&case.up()).trim(), "survived");
    case.assert_nothing_left();
}

/// A fork bomb in the background; the forks that fail print nothing. It starts in a subshell
/// of its own: run by PID 1 itself, `b | b &` has PID 1 fork both sides, and the first side's
/// descendants can fill the limit before the second fork, which then fails and ends PID 1
/// (dash exits 2 on "Cannot fork").
const FORK_BOMB: &str = "b() { b | b & }; (b 2>/dev/null)";

#[test]
fn a_fork_bomb_is_held_at_the_pids_limit_and_the_container_still_ends() {
    // PID 1 starts a sleep first (it could not fork one later), bombs, and ends when the
    // sleep does, which the test ends once it has seen the limit hold: the kernel then kills
    // the rest of its pid namespace.
    let command =
        format!("touch /data/ready; sleep 600 & s=$!; {FORK_BOMB}; wait $s; echo pid1 still works");
    let mut bg = Background::start(case("cg-forkbomb", &command, "pids = 32"));
    let pids = Knobs::of(bg.name(), "pids");
    assert_eq!(pids.read("pids.max", "pids.max"), "32");
    let mut most = 0;
    let held = wait_until(Duration::from_secs(20), || {
        most = most.max(
            pids.read("pids.current", "pids.current")
                .parse()
                .unwrap_or(0),
        );
        pids.counter("pids.events", "max") > 0
    });
    assert!(
        held,
        "the kernel never refused a fork (pids.events max = 0)"
    );
    assert!(most <= 32, "{most} tasks under pids = 32");
    end_sleeps(&pids.dir);
    let out = bg.finish();
    assert_eq!(stdout(&out).trim(), "pid1 still works", "{}", stderr(&out));
    assert!(out.status.success());
    bg.case.assert_nothing_left();
}

/// SIGTERM to every `sleep` in the cgroup `dir` (the test's own container).
fn end_sleeps(dir: &std::path::Path) {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    let mut ended = 0;
    for pid in procs
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sleep" {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
            ended += 1;
        }
    }
    assert_eq!(
        ended,
        1,
        "PID 1's sleep was not in {}: {procs}",
        dir.display()
    );
}

#[test]
fn a_fork_bomb_dies_with_its_killed_box_and_leaves_nothing() {
    let command = format!("touch /data/ready; {FORK_BOMB}; exec sleep 1000");
    let mut bg = Background::start(case("cg-forkbomb-kill", &command, "pids = 32"));
    let pids = Knobs::of(bg.name(), "pids");
    assert!(
        wait_until(Duration::from_secs(5), || pids
            .counter("pids.events", "max")
            > 0),
        "the bomb never reached the limit"
    );
    bg.kill_box();
    let procs = pids.dir.join("cgroup.procs");
    let emptied = wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&procs).map_or(true, |t| t.trim().is_empty())
    });
    assert!(
        emptied,
        "the bomb outlived box: {:?}",
        std::fs::read_to_string(&procs)
    );
    sweep();
    bg.case.rm();
    bg.case.assert_nothing_left();
}

#[test]
fn half_a_cpu_is_the_kernels_quota_and_a_busy_loop_is_throttled() {
    let busy = "touch /data/ready; while [ ! -e /data/done ]; do :; done";
    let mut bg = Background::start(case("cg-cpus", busy, "cpus = 0.5"));
    let cpu = Knobs::of(bg.name(), "cpu");
    if cpu.v1 {
        assert_eq!(cpu.read("cpu.cfs_quota_us", ""), "50000");
        assert_eq!(cpu.read("cpu.cfs_period_us", ""), "100000");
    } else {
        assert_eq!(cpu.read("", "cpu.max"), "50000 100000");
    }
    // The loop at the highest priority, so that it asks for a whole CPU however busy the
    // machine is: only the quota then holds it to half of one (at nice 0 on a loaded host it
    // may get less than its quota, and never be throttled).
    for pid in cpu.read("cgroup.procs", "cgroup.procs").lines() {
        let pid: libc::id_t = pid.parse().expect("a pid in cgroup.procs");
        // SAFETY: setpriority takes plain integers and touches no memory.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, pid, -20) };
        assert_eq!(rc, 0, "renice {pid}: {}", std::io::Error::last_os_error());
    }
    let throttled = wait_until(Duration::from_secs(10), || {
        cpu.counter("cpu.stat", "nr_throttled ") > 0
    });
    assert!(throttled, "cpu.stat: {}", cpu.read("cpu.stat", "cpu.stat"));
    // Over a second of wall time the loop gets about half a second of CPU.
    let used = || -> u64 {
        let acct = Knobs::of(bg.name(), "cpuacct");
        if acct.v1 {
            acct.read("cpuacct.usage", "").parse().unwrap()
        } else {
            acct.counter("cpu.stat", "usage_usec ") * 1000
        }
    };
    let (t0, u0) = (Instant::now(), used());
    std::thread::sleep(Duration::from_secs(1));
    let share = (used() - u0) as f64 / t0.elapsed().as_nanos() as f64;
    assert!(
        share < 0.65,
        "the busy loop got {share:.2} CPUs under cpus = 0.5"
    );
    assert!(share > 0.2, "the busy loop got only {share:.2} CPUs");
    let out = bg.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    bg.case.assert_nothing_left();
}

#[test]
fn the_limits_read_back_from_the_cgroup_files_are_the_configured_ones() {
    let (cpus, cpuset) = if online_cpus() >= 2 {
        (1.5, "1")
    } else {
        (0.5, "0")
    };
    let resources = format!(
        "memory = \"48m\"\nmemory_swap = \"64m\"\nmemory_reservation = \"16m\"\ncpus = {cpus}\n\
         cpu_shares = 512\ncpuset_cpus = \"{cpuset}\"\ncpuset_mems = \"0\"\npids = 64"
    );
    let mut bg = Background::start(case("cg-limits", UNTIL_DONE, &resources));
    let name = bg.name().to_string();
    let mem = Knobs::of(&name, "memory");
    assert_eq!(
        mem.read("memory.limit_in_bytes", "memory.max"),
        (48u64 << 20).to_string()
    );
    assert_eq!(
        mem.read("memory.soft_limit_in_bytes", "memory.low"),
        (16u64 << 20).to_string()
    );
    // Docker's memory_swap is memory + swap: v1 takes the total, v2 the swap alone. (Without
    // swap accounting box refuses memory_swap, and the container would not have started.)
    let want: u64 = if mem.v1 { 64 << 20 } else { 16 << 20 };
    assert_eq!(
        mem.read("memory.memsw.limit_in_bytes", "memory.swap.max"),
        want.to_string()
    );
    let cpu = Knobs::of(&name, "cpu");
    let quota = (cpus * 100_000.0) as u64;
    if cpu.v1 {
        assert_eq!(cpu.read("cpu.cfs_quota_us", ""), quota.to_string());
        assert_eq!(cpu.read("cpu.cfs_period_us", ""), "100000");
        assert_eq!(cpu.read("cpu.shares", ""), "512");
    } else {
        assert_eq!(cpu.read("", "cpu.max"), format!("{quota} 100000"));
        assert_eq!(
            cpu.read("", "cpu.weight"),
            "59",
            "shares 512 as a v2 weight"
        );
    }
    let set = Knobs::of(&name, "cpuset");
    assert_eq!(set.read("cpuset.cpus", "cpuset.cpus"), cpuset);
    assert_eq!(set.read("cpuset.mems", "cpuset.mems"), "0");
    let pids = Knobs::of(&name, "pids");
    assert_eq!(pids.read("pids.max", "pids.max"), "64");
    let out = bg.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    bg.case.assert_nothing_left();
}

#[test]
fn a_bad_value_stops_box_up_before_anything_exists_and_names_the_key() {
    let cases = [
        ("cpus = 999", "resources.cpus"),
        ("cpus = 0", "resources.cpus"),
        ("memory = \"1m\"", "resources.memory"),
        ("memory = \"12q\"", "resources.memory"),
        ("cpuset_cpus = \"0-4095\"", "resources.cpuset_cpus"),
        ("pids = 0", "resources.pids"),
    ];
    for (resources, key) in cases {
        let case = case("cg-bad", UNTIL_DONE, resources);
        let out = case.up();
        assert_eq!(
            out.status.code(),
            Some(125),
            "{resources}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(&format!("box.toml:4:1: {key}: ")),
            "{resources}: {}",
            stderr(&out)
        );
        case.assert_nothing_left();
    }
}

#[test]
fn box_stats_reads_a_running_containers_cgroup() {
    let resources = "memory = \"32m\"\ncpus = 0.5\npids = 32";
    let mut bg = Background::start(case("cg-stats", UNTIL_DONE, resources));
    let name = bg.name().to_string();

    let table = ok(&run_box(&["stats", &name]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let head: Vec<&str> = lines[0]
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        head,
        [
            "NAME",
            "MEM USAGE",
            "MEM PEAK",
            "MEM LIMIT",
            "CPU TIME",
            "CPUS",
            "THROTTLED",
            "PIDS",
            "PIDS LIMIT"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        (row[0], row[3], row[5], row[8]),
        (name.as_str(), "32MiB", "0.5", "32"),
        "{table}"
    );

    let json = ok(&run_box(&["stats", &name, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("stats prints JSON");
    assert_eq!(v["name"], name.as_str());
    assert_eq!(v["cgroup"], format!("box/{name}").as_str());
    assert_eq!(v["memory"]["limit_bytes"], 32u64 << 20);
    assert!(
        v["memory"]["usage_bytes"].as_u64().is_some_and(|n| n > 0),
        "{json}"
    );
    assert!(
        v["memory"]["peak_bytes"].as_u64() >= v["memory"]["usage_bytes"].as_u64(),
        "{json}"
    );
    assert_eq!(v["cpu"]["limit_cpus"], 0.5);
    assert!(v["cpu"]["usage_ns"].as_u64().is_some(), "{json}");
    assert_eq!(v["pids"]["limit"], 32);
    // sh and its sleep, or sh alone between two sleeps.
    assert!(
        v["pids"]["current"]
            .as_u64()
            .is_some_and(|n| (1..=2).contains(&n)),
        "{json}"
    );
    insta::assert_snapshot!(serde_json::to_string_pretty(&redacted(v)).unwrap());

    let out = bg.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    bg.case.assert_nothing_left();
    // Once it is gone, stats says so.
    assert_eq!(run_box(&["stats", &name]).status.code(), Some(1));
}

#[test]
fn box_stats_of_an_unknown_name_is_a_clear_error() {
    let name = unique_name("cg-nope");
    for args in [
        vec!["stats", name.as_str()],
        vec!["stats", name.as_str(), "--format", "json"],
    ] {
        let out = run_box(&args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out).trim(),
            format!("box: no running container named {name:?}")
        );
    }
}
