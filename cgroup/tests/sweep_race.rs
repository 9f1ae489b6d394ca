//! Orphan sweeps racing creators: many threads create and destroy cgroups under one parent
//! while others sweep it, over and over. No start may fail, and no sweep may take a live
//! creator's cgroup for an orphan (none is ever orphaned here, so a sweep must remove
//! nothing). Run on a prepared tree (any user) and on the machine's real hierarchies (root).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use box_cgroup::{sweep_orphans, Cgroup, Controller, Layout, Resources};

const CREATORS: usize = 4;
const SWEEPERS: usize = 2;

/// Creators each make and remove `rounds` cgroups under `parent` while sweepers sweep it;
/// returns every failure seen (creates or destroys that failed, sweeps that removed a live
/// cgroup or reported an error).
fn race(layout: &Layout, parent: &Path, rounds: usize) -> Vec<String> {
    let failures = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..SWEEPERS {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let sweep = sweep_orphans(layout, parent);
                    let mut f = failures.lock().unwrap();
                    for path in sweep.removed {
                        f.push(format!("a sweep removed the live {}", path.display()));
                    }
                    for e in sweep.failed {
                        f.push(format!("sweep: {e}"));
                    }
                }
            });
        }
        let creators: Vec<_> = (0..CREATORS)
            .map(|t| {
                let failures = &failures;
                s.spawn(move || {
                    for i in 0..rounds {
                        let path = parent.join(format!("c{t}-{i}"));
                        match Cgroup::create(layout, &path, &Resources::default()) {
                            Ok(cg) => {
                                if let Err(e) = cg.destroy_keep_parents() {
                                    failures.lock().unwrap().push(format!("destroy: {e}"));
                                }
                            }
                            Err(e) => failures.lock().unwrap().push(format!("create: {e}")),
                        }
                    }
                })
            })
            .collect();
        for c in creators {
            c.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    failures.into_inner().unwrap()
}

/// Every directory `rel` under the hierarchies of `layout` that exists.
fn existing(layout: &Layout, rel: &Path) -> Vec<PathBuf> {
    let mut roots: Vec<&Path> = layout.v1_mounts().values().map(|p| p.as_path()).collect();
    roots.extend(layout.v2_root());
    roots.sort();
    roots.dedup();
    roots
        .into_iter()
        .map(|r| r.join(rel))
        .filter(|d| d.exists())
        .collect()
}

#[test]
fn sweeps_never_take_a_creators_cgroup_on_a_prepared_tree() {
    let top = tempfile::tempdir().unwrap();
    let mut v1 = BTreeMap::new();
    for (name, controller) in [
        ("cpu", Controller::Cpu),
        ("memory", Controller::Memory),
        ("pids", Controller::Pids),
    ] {
        let dir = top.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        v1.insert(controller, dir);
    }
    let unified = top.path().join("unified");
    std::fs::create_dir(&unified).unwrap();
    std::fs::write(unified.join("cgroup.controllers"), "").unwrap();
    let layout = Layout::hybrid(v1, unified).unwrap();

    let failures = race(&layout, Path::new("box"), 1000);
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}

#[test]
fn sweeps_never_take_a_creators_cgroup_on_the_real_hierarchies() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test makes cgroups on the machine's hierarchies: run it as root"
    );
    let layout = Layout::detect().unwrap();
    // A parent of our own under box/: the sweeps touch nothing but this test's cgroups.
    let parent = PathBuf::from(format!("box/sweep-race-{}", std::process::id()));
    let failures = race(&layout, &parent, 300);
    // box/ stays, as box itself leaves it: other containers may be starting in it.
    for dir in existing(&layout, &parent) {
        let _ = std::fs::remove_dir(&dir);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
    assert_eq!(existing(&layout, &parent), Vec::<PathBuf>::new());
}
