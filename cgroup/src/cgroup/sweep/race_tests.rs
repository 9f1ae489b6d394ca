//! Sweeps racing creators on fake trees, each race staged at one exact step of the creator:
//! a sweep never takes a cgroup whose creator is between its mkdir and its lock, a dead
//! creator blocks no sweep, a destroy never prunes a parent a creator is about to use, and
//! a creator never waits for the owner of a cgroup it nests in.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;

use super::*;
use crate::cgroup::lock;
use crate::resources::Resources;
use crate::testing::{after_mkdir, before_parent_lock, cat, v1_tree, v2_tree};

fn res() -> Resources {
    Resources {
        pids: Some(16),
        ..Default::default()
    }
}

/// Runs one sweep right after the directory ending in `suffix` is made; returns where the
/// sweep's result lands.
fn sweep_when_made(layout: &Layout, suffix: &str) -> Rc<RefCell<Option<Sweep>>> {
    let result = Rc::new(RefCell::new(None));
    let (slot, layout, suffix) = (result.clone(), layout.clone(), PathBuf::from(suffix));
    after_mkdir(move |dir| {
        if dir.ends_with(&suffix) && slot.borrow().is_none() {
            *slot.borrow_mut() = Some(sweep_orphans(&layout, Path::new("box")));
        }
    });
    result
}

fn claimable(layout: &Layout, rel: &str) -> bool {
    let roots = layout.roots().unwrap();
    Cgroup::claim(layout, &roots, Path::new(rel), Part::All)
        .unwrap()
        .is_some()
}

#[test]
fn a_sweep_while_a_creator_is_between_mkdir_and_lock_is_skipped() {
    let (root, layout, _g) = v2_tree();
    let result = sweep_when_made(&layout, "box/racer");
    let cg = Cgroup::create(&layout, Path::new("box/racer"), &res()).unwrap();
    let sweep = result.borrow_mut().take().expect("the sweep ran");
    assert!(sweep.skipped, "{sweep:?}");
    assert!(sweep.removed.is_empty() && sweep.failed.is_empty());
    assert_eq!(cat(&root.path().join("box/racer"), "pids.max"), "16");
    assert!(!claimable(&layout, "box/racer"));
    cg.destroy().unwrap();
}

#[test]
fn a_sweep_between_hierarchies_leaves_a_half_made_cgroup() {
    // The creator owns its v1 directories and has just made unified/box, outside the window.
    let (_top, layout, _g) = v1_tree(true);
    let result = sweep_when_made(&layout, "unified/box");
    let cg = Cgroup::create(&layout, Path::new("box/racer"), &res()).unwrap();
    let sweep = result.borrow_mut().take().expect("the sweep ran");
    assert!(!sweep.skipped);
    assert!(
        sweep.removed.is_empty() && sweep.failed.is_empty(),
        "{sweep:?}"
    );
    assert_eq!(cg.paths().len(), 6);
    assert!(cg.paths().iter().all(|d| d.dir.is_dir()));
    cg.destroy().unwrap();
}

#[test]
fn a_creator_killed_between_mkdir_and_lock_blocks_no_sweep_for_good() {
    let (root, layout, _g) = v2_tree();
    drop(Cgroup::create(&layout, Path::new("box/dead"), &res()).unwrap());
    // One process holding box/ the way a creator does (shared), until it is killed: the
    // shell opens it, flock(1) locks that open file, the shell becomes `sleep`.
    let mut holder = Command::new("sh")
        .args([
            "-c",
            "exec 3<\"$1\"; flock -s 3; echo held; exec sleep 1000",
            "sh",
        ])
        .arg(root.path().join("box"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let out = holder.stdout.take().unwrap();
    BufReader::new(out).read_line(&mut line).unwrap();
    assert_eq!(line, "held\n");

    let busy = sweep_orphans(&layout, Path::new("box"));
    assert!(busy.skipped && busy.removed.is_empty(), "{busy:?}");
    holder.kill().unwrap();
    holder.wait().unwrap();
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert!(!sweep.skipped);
    assert_eq!(sweep.removed, vec![PathBuf::from("box/dead")]);
}

#[test]
fn destroy_does_not_prune_a_parent_a_creator_holds() {
    let (root, layout, _g) = v2_tree();
    let cg = Cgroup::create(&layout, Path::new("box/a"), &res()).unwrap();
    let box_dir = crate::testing::dir(root.path()).join("box").unwrap();
    let held = lock::hold_parent(&box_dir).unwrap().expect("box/ is there");
    cg.destroy().unwrap();
    assert!(root.path().join("box").is_dir(), "pruned under a creator");
    drop(held);
    cg.destroy().unwrap();
    assert!(!root.path().join("box").exists());
}

#[test]
fn a_parent_pruned_before_the_creator_holds_it_is_made_again() {
    let (root, layout, _g) = v2_tree();
    let pruned = Rc::new(Cell::new(0));
    let (count, top) = (pruned.clone(), root.path().to_path_buf());
    after_mkdir(move |dir| {
        // Another process removes the empty box/ right after this creator made it, twice.
        if dir == top.join("box") && count.get() < 2 {
            count.set(count.get() + 1);
            let d = crate::testing::dir(&top).join("box").unwrap();
            crate::fs::rmdir(&d).unwrap();
        }
    });
    let cg = Cgroup::create(&layout, Path::new("box/a"), &res()).unwrap();
    assert_eq!(pruned.get(), 2);
    assert_eq!(cat(&root.path().join("box/a"), "pids.max"), "16");
    cg.destroy().unwrap();
}

#[test]
fn a_parent_pruned_while_the_creator_locks_it_is_made_again() {
    let (root, layout, _g) = v2_tree();
    // box/ there and empty, as a container's end with kept parents leaves it.
    let first = Cgroup::create(&layout, Path::new("box/a"), &res()).unwrap();
    first.destroy_keep_parents().unwrap();
    let pruned = Rc::new(Cell::new(0));
    let (count, top) = (pruned.clone(), root.path().to_path_buf());
    before_parent_lock(move |dir| {
        // Another process prunes box/ between this creator's open and its lock: it holds a
        // removed directory, in which its mkdir fails.
        if dir == top.join("box") && count.get() == 0 {
            count.set(1);
            let d = crate::testing::dir(&top).join("box").unwrap();
            crate::fs::rmdir(&d).unwrap();
        }
    });
    let cg = Cgroup::create(&layout, Path::new("box/b"), &res()).unwrap();
    assert_eq!(pruned.get(), 1);
    assert_eq!(cat(&root.path().join("box/b"), "pids.max"), "16");
    cg.destroy().unwrap();
}

#[test]
fn a_cgroup_nested_in_a_live_one_is_made_and_its_parent_kept() {
    let (top, layout, _g) = v1_tree(true);
    let pod = Cgroup::create(&layout, Path::new("pod"), &Resources::default()).unwrap();
    // The creator does not wait for pod's owner.
    let inner = Cgroup::create(&layout, Path::new("pod/c1"), &res()).unwrap();
    // Children of a live cgroup are not swept: its owner holds it.
    let sweep = sweep_orphans(&layout, Path::new("pod"));
    assert!(sweep.skipped && sweep.removed.is_empty(), "{sweep:?}");
    // Nor is a live cgroup pruned as an empty parent.
    inner.destroy().unwrap();
    assert!(top.path().join("memory/pod").is_dir());
    pod.destroy().unwrap();
    assert!(!top.path().join("memory/pod").exists());
}

#[test]
fn a_sweep_leaves_a_directory_with_subdirectories() {
    // box/group is nobody's, but holds a live cgroup: not an orphan container.
    let (top, layout, _g) = v1_tree(true);
    let live = Cgroup::create(&layout, Path::new("box/group/c1"), &res()).unwrap();
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert!(
        sweep.removed.is_empty() && sweep.failed.is_empty(),
        "{sweep:?}"
    );
    assert!(top.path().join("memory/box/group/c1").is_dir());
    assert!(!remove_orphan(&layout, Path::new("box/group")).unwrap());
    live.destroy().unwrap();
}
