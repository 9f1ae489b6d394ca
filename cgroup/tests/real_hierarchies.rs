//! Against this machine's real cgroup hierarchies, as root: without root (or without cgroups)
//! every test fails, like the other crates' root tests. Every test makes its own
//! `box/test-<pid>-<n>` and removes it, even when it fails.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use box_cgroup::{sweep_orphans, Cgroup, DeviceLimit, Error, Hierarchy, Layout, Resources};
use nix::unistd::Pid;

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn name() -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    PathBuf::from(format!("box/test-{}-{n}", std::process::id()))
}

/// This host's layout; panics without root or without cgroups.
fn layout() -> Layout {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: creates cgroups under box/ in the host's hierarchies"
    );
    Layout::detect().expect("detect this host's cgroup hierarchies")
}

/// Destroys the cgroup when a test panics half-way.
struct Cleanup<'a>(&'a Cgroup);
impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.destroy();
    }
}

fn sleeper() -> Child {
    Command::new("sleep").arg("100").spawn().unwrap()
}

fn pid(child: &Child) -> Pid {
    Pid::from_raw(child.id() as i32)
}

/// major:minor of a real block device (not loop, zram or ram), for the io throttle.
fn block_device() -> (u32, u32) {
    find_block_device().expect("an io limit needs a block device in /sys/block (not loop/zram/ram)")
}

fn find_block_device() -> Option<(u32, u32)> {
    for entry in std::fs::read_dir("/sys/block").ok()?.flatten() {
        let name = entry.file_name().into_string().ok()?;
        if name.starts_with("loop") || name.starts_with("zram") || name.starts_with("ram") {
            continue;
        }
        let dev = std::fs::read_to_string(entry.path().join("dev")).ok()?;
        let (a, b) = dev.trim().split_once(':')?;
        return Some((a.parse().ok()?, b.parse().ok()?));
    }
    None
}

fn assert_gone(cg_dirs: &[PathBuf]) {
    for d in cg_dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

#[test]
fn lifecycle_limits_join_stats_destroy_with_a_live_process() {
    let layout = layout();
    let path = name();
    let (major, minor) = block_device();
    let res = Resources {
        memory: Some(64 << 20),
        memory_reservation: Some(32 << 20),
        cpus: Some(0.5),
        cpu_shares: Some(512),
        cpuset_cpus: Some("0".into()),
        cpuset_mems: Some("0".into()),
        pids: Some(32),
        io_read_bps: vec![DeviceLimit {
            major,
            minor,
            rate: 1 << 20,
        }],
        io_write_iops: vec![DeviceLimit {
            major,
            minor,
            rate: 100,
        }],
        ..Default::default()
    };
    res.validate(&layout).unwrap();
    let cg = Cgroup::create(&layout, &path, &res).unwrap();
    let _cleanup = Cleanup(&cg);
    let dirs: Vec<PathBuf> = cg.paths().into_iter().map(|d| d.dir).collect();
    assert!(dirs.iter().all(|d| d.is_dir()));
    if layout.v2_root().is_some() {
        assert!(cg.v2_fd().is_some());
    }

    let limits = cg.read_limits().unwrap();
    assert_eq!(limits.mismatches(&res), Vec::<&str>::new(), "{limits:?}");
    assert_eq!(limits.cpus(), Some(0.5));

    let mut child = sleeper();
    cg.add_process(pid(&child)).unwrap();
    cg.add_process(pid(&child)).unwrap(); // idempotent
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", child.id())).unwrap();
    let want = format!("/{}", path.display());
    for d in cg.paths() {
        let line = match &d.hierarchy {
            Hierarchy::Unified => own.lines().find(|l| l.starts_with("0::")),
            Hierarchy::V1(cs) => own.lines().find(|l| {
                let names = l.split(':').nth(1).unwrap_or("");
                names.split(',').any(|n| n == cs[0].v1_name())
            }),
        };
        assert!(
            line.is_some_and(|l| l.ends_with(&want)),
            "{:?} not in {want}:\n{own}",
            d.hierarchy
        );
    }
    assert_eq!(cg.procs().unwrap(), vec![pid(&child)]);

    let stats = cg.stats().unwrap();
    assert_eq!(stats.pids_current, Some(1));
    assert!(
        stats.memory_usage.is_some() && stats.cpu_usage_ns.is_some(),
        "{stats:?}"
    );
    assert_eq!(stats.oom_kills, Some(0));
    assert!(!cg.oom_killed().unwrap());

    // Destroy with the process still running: it is killed, then everything goes.
    cg.destroy().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9));
    assert_gone(&dirs);
}

#[test]
fn open_from_elsewhere_and_destroy_an_empty_cgroup() {
    let layout = layout();
    let path = name();
    let cg = Cgroup::create(&layout, &path, &Resources::default()).unwrap();
    let _cleanup = Cleanup(&cg);
    let again = Cgroup::create(&layout, &path, &Resources::default()).unwrap_err();
    assert!(matches!(again, Error::Exists { .. }), "{again}");
    let opened = Cgroup::open(&layout, &path).unwrap();
    assert_eq!(opened.paths(), cg.paths());
    assert_eq!(opened.stats().unwrap().pids_current.unwrap_or(0), 0);
    opened.destroy().unwrap();
    assert_gone(&cg.paths().into_iter().map(|d| d.dir).collect::<Vec<_>>());
    assert!(matches!(
        Cgroup::open(&layout, &path),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn memory_and_swap_can_be_raised_and_lowered() {
    let layout = layout();
    // On v1 the order of the writes matters (memsw >= memory at every step); on v2 the two
    // files are independent. Either way the host needs swap accounting (memsw on v1,
    // memory.swap.max on v2): without it, create fails and says so.
    let res = |m: u64, s: i64| Resources {
        memory: Some(m << 20),
        memory_swap: Some(if s < 0 { s } else { s << 20 }),
        ..Default::default()
    };
    let cg = Cgroup::create(&layout, &name(), &res(64, 128)).unwrap();
    let _cleanup = Cleanup(&cg);
    for (m, s) in [(256, 512), (32, 40), (100, 100)] {
        cg.apply(&res(m, s)).unwrap();
        let l = cg.read_limits().unwrap();
        assert_eq!(
            (l.memory, l.memory_swap),
            (Some(m << 20), Some((s as u64) << 20))
        );
    }
    cg.apply(&res(64, -1)).unwrap();
    assert_eq!(cg.read_limits().unwrap().memory_swap, None);
}

#[test]
fn pids_limit_contains_a_fork_bomb() {
    let layout = layout();
    let res = Resources {
        pids: Some(8),
        ..Default::default()
    };
    let cg = Cgroup::create(&layout, &name(), &res).unwrap();
    let _cleanup = Cleanup(&cg);
    // Waits for a line on stdin (so it joins before it forks), then forks until refused.
    let mut child = Command::new("sh")
        .args([
            "-c",
            "read x; for i in $(seq 20); do sleep 100 & done; wait",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    cg.add_process(pid(&child)).unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while cg.stats().unwrap().pids_current < Some(8) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(cg.stats().unwrap().pids_current, Some(8));
    let inside = cg.procs().unwrap();
    assert!(inside.len() >= 7, "{inside:?}");
    // The container can still be stopped: all of it.
    cg.destroy().unwrap();
    child.wait().unwrap();
    assert_gone(&cg.paths().into_iter().map(|d| d.dir).collect::<Vec<_>>());
}

#[test]
fn oom_kill_is_reported() {
    let layout = layout();
    let res = Resources {
        memory: Some(16 << 20),
        memory_swap: None,
        ..Default::default()
    };
    let cg = Cgroup::create(&layout, &name(), &res).unwrap();
    let _cleanup = Cleanup(&cg);
    // `tail` keeps the current line in memory, and /dev/zero has no newline.
    let mut child = Command::new("sh")
        .args(["-c", "read x; exec tail -n 1 /dev/zero"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    cg.add_process(pid(&child)).unwrap();
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9));
    assert!(cg.oom_killed().unwrap());
    assert!(cg.stats().unwrap().oom_kills >= Some(1));
    cg.destroy().unwrap();
}

#[test]
fn concurrent_creates_survive_parent_pruning() {
    let layout = layout();
    // A parent of our own, so that it really gets pruned (box/ may hold others' containers).
    let parent = format!("box-race-{}", std::process::id());
    std::thread::scope(|s| {
        for t in 0..4 {
            let (layout, parent) = (&layout, &parent);
            s.spawn(move || {
                for i in 0..15 {
                    let path = PathBuf::from(format!("{parent}/t{t}-{i}"));
                    let cg = Cgroup::create(layout, &path, &Resources::default()).unwrap();
                    cg.destroy().unwrap();
                }
            });
        }
    });
    let mut roots: Vec<&Path> = layout.v1_mounts().values().map(|p| p.as_path()).collect();
    roots.extend(layout.v2_root());
    for root in roots {
        assert!(
            !root.join(&parent).exists(),
            "{}/{parent} left behind",
            root.display()
        );
    }
}

#[test]
fn a_sweep_kills_and_removes_an_orphan_and_keeps_an_owned_cgroup() {
    let layout = layout();
    // A private parent, so that the sweep touches nothing but this test's cgroups.
    let parent = name();
    let live = Cgroup::create(&layout, &parent.join("live"), &Resources::default()).unwrap();
    let _cleanup = Cleanup(&live);
    assert!(live.is_owner());
    let dead = Cgroup::create(&layout, &parent.join("dead"), &Resources::default()).unwrap();
    let mut child = sleeper();
    dead.add_process(pid(&child)).unwrap();
    let dead_dirs: Vec<PathBuf> = dead.paths().into_iter().map(|d| d.dir).collect();
    // Its creator "dies": the locked fds close, as when a process is SIGKILLed.
    drop(dead);

    // A sweep is skipped while any box is creating a cgroup, and the dead owner's locks live on
    // while a process forked meanwhile (another test spawning a command) still holds copies
    // of its fds, until that process execs: retry until one runs and takes it, for 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let sweep = std::iter::repeat_with(|| sweep_orphans(&layout, &parent))
        .find(|s| !s.skipped && (!s.removed.is_empty() || std::time::Instant::now() > deadline))
        .unwrap();
    assert!(sweep.failed.is_empty(), "{:?}", sweep.failed);
    assert_eq!(sweep.removed, vec![parent.join("dead")]);
    assert_eq!(
        child.wait().unwrap().signal(),
        Some(9),
        "the orphan's process was killed"
    );
    assert_gone(&dead_dirs);
    assert!(
        live.paths().iter().all(|d| d.dir.is_dir()),
        "the owned cgroup stays"
    );

    live.destroy().unwrap();
    let parents: Vec<PathBuf> = live
        .paths()
        .iter()
        .filter_map(|d| d.dir.parent().map(PathBuf::from))
        .collect();
    assert_gone(&parents);
}
