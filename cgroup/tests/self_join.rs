//! A child joining its cgroup by itself ([`Cgroup::self_join`]), against this machine's real
//! hierarchies, as root (without root every test fails). The kernel's `/proc/PID/cgroup` of
//! the child is the judge.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use box_cgroup::{Cgroup, Hierarchy, Layout, Resources};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, ForkResult};

fn layout() -> Layout {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: creates cgroups under box/ in the host's hierarchies"
    );
    Layout::detect().expect("detect this host's cgroup hierarchies")
}

/// The line of `/proc/PID/cgroup` for `hierarchy`.
fn line<'a>(own: &'a str, hierarchy: &Hierarchy) -> Option<&'a str> {
    match hierarchy {
        Hierarchy::Unified => own.lines().find(|l| l.starts_with("0::")),
        Hierarchy::V1(cs) => own.lines().find(|l| {
            let names = l.split(':').nth(1).unwrap_or("");
            names.split(',').any(|n| n == cs[0].v1_name())
        }),
    }
}

#[test]
fn a_single_threaded_child_joins_every_v1_hierarchy_by_itself() {
    let layout = layout();
    let path = PathBuf::from(format!("box/test-self-join-{}", std::process::id()));
    let cg = Cgroup::create(&layout, &path, &Resources::default()).unwrap();
    let join = cg.self_join().unwrap();
    let (ready_r, ready_w) = pipe().unwrap();
    // SAFETY: the child only calls write(2) (join, the pipe) and pause(2) before it is
    // killed: nothing that could deadlock on a lock another test thread held at the fork.
    let child = match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let byte: &[u8] = if join.join().is_ok() { b"j" } else { b"e" };
            // SAFETY: write(2) and pause(2) on a valid fd; the child never returns.
            unsafe {
                libc::write(ready_w.as_raw_fd(), byte.as_ptr().cast(), 1);
                libc::pause();
                libc::_exit(0)
            }
        }
        ForkResult::Parent { child } => child,
    };
    drop(ready_w);
    let mut byte = [0u8; 1];
    std::fs::File::from(ready_r).read_exact(&mut byte).unwrap();
    let own = std::fs::read_to_string(format!("/proc/{child}/cgroup")).unwrap();
    // The unified hierarchy is box's (CLONE_INTO_CGROUP, else add_process_v2).
    cg.add_process_v2(child).unwrap();
    let after = std::fs::read_to_string(format!("/proc/{child}/cgroup")).unwrap();
    let procs = cg.procs().unwrap();
    kill(child, Signal::SIGKILL).unwrap();
    waitpid(child, None).unwrap();
    cg.destroy().unwrap();

    assert_eq!(byte, *b"j", "the child's join failed");
    let want = format!("/{}", path.display());
    let mut v1 = 0;
    for d in cg.paths() {
        let (text, what) = match d.hierarchy {
            Hierarchy::V1(_) => (&own, "after its own join"),
            Hierarchy::Unified => (&after, "after add_process_v2"),
        };
        assert!(
            line(text, &d.hierarchy).is_some_and(|l| l.ends_with(&want)),
            "{:?} not in {want} {what}:\n{text}",
            d.hierarchy
        );
        v1 += usize::from(matches!(d.hierarchy, Hierarchy::V1(_)));
    }
    assert!(
        v1 > 0,
        "needs a v1 hierarchy: on a pure v2 host there is nothing to join"
    );
    assert_eq!(procs, vec![child]);
}
