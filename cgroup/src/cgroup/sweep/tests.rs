//! Orphan sweeps on fake trees: owned cgroups stay, orphans go, and a creator racing a sweep
//! ends up with its cgroup either way.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::*;
use crate::resources::Resources;
use crate::testing::{after_mkdir, v1_tree, v2_tree};

fn res() -> Resources {
    Resources {
        pids: Some(16),
        ..Default::default()
    }
}

/// The directories of `rel` that exist, over every hierarchy of `layout`.
fn existing(layout: &Layout, rel: &str) -> Vec<PathBuf> {
    let mounts = layout.v1_hierarchies().into_iter().map(|(m, _)| m);
    mounts
        .chain(layout.v2_root())
        .map(|m| m.join(rel))
        .filter(|d| d.exists())
        .collect()
}

/// A cgroup whose creator is gone: created, then the handle (and its locks) dropped.
fn orphan(layout: &Layout, rel: &str) {
    drop(Cgroup::create(layout, Path::new(rel), &res()).unwrap());
}

fn sweeps_orphans_and_keeps_owned(layout: &Layout, hierarchies: usize) {
    let live = Cgroup::create(layout, Path::new("box/live"), &res()).unwrap();
    assert!(live.is_owner());
    orphan(layout, "box/dead");
    assert_eq!(existing(layout, "box/dead").len(), hierarchies);
    // A handle from `open` (like `box stats`) does not own the cgroup.
    let looking = Cgroup::open(layout, Path::new("box/dead")).unwrap();
    assert!(!looking.is_owner());

    let sweep = sweep_orphans(layout, Path::new("box"));
    assert!(sweep.failed.is_empty(), "{:?}", sweep.failed);
    assert_eq!(sweep.removed, vec![PathBuf::from("box/dead")]);
    assert!(existing(layout, "box/dead").is_empty());
    assert_eq!(existing(layout, "box/live").len(), hierarchies);
    drop(looking);

    // Sweeping again finds nothing; the live one still cannot be claimed.
    let again = sweep_orphans(layout, Path::new("/box/"));
    assert!(again.removed.is_empty() && again.failed.is_empty());
    assert!(Cgroup::claim(layout, Path::new("box/live"))
        .unwrap()
        .is_none());
    live.destroy().unwrap();
    assert!(existing(layout, "box").is_empty(), "box/ pruned");
}

#[test]
fn v2_sweep_removes_orphans_only() {
    let (_root, layout, _g) = v2_tree();
    sweeps_orphans_and_keeps_owned(&layout, 1);
}

#[test]
fn hybrid_sweep_removes_orphans_only() {
    let (_top, layout, _g) = v1_tree(true);
    sweeps_orphans_and_keeps_owned(&layout, 6);
}

#[test]
fn a_sweep_of_a_missing_parent_does_nothing() {
    let (_top, layout, _g) = v1_tree(false);
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert!(sweep.removed.is_empty() && sweep.failed.is_empty());
    assert_eq!(sweep_orphans(&layout, Path::new("/")).failed.len(), 1);
}

#[test]
fn an_orphan_left_on_some_hierarchies_only_is_removed() {
    // A creator killed half-way through its mkdirs.
    let (top, layout, _g) = v1_tree(true);
    orphan(&layout, "box/half");
    for gone in ["memory", "unified"] {
        let dir = top.path().join(gone).join("box/half");
        crate::fs::rmdir(&dir).unwrap();
    }
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert_eq!(sweep.removed, vec![PathBuf::from("box/half")]);
    assert!(existing(&layout, "box/half").is_empty());
}

/// Runs one sweep when the directory `<hierarchy>/box/racer` is made, before its creator
/// could lock it; returns where the sweep's result lands.
fn sweep_when_made(layout: &Layout, hierarchy: &'static str) -> Rc<RefCell<Option<Sweep>>> {
    let result = Rc::new(RefCell::new(None));
    let (slot, layout) = (result.clone(), layout.clone());
    after_mkdir(move |dir| {
        let racer = dir.ends_with("box/racer")
            && dir
                .parent()
                .and_then(Path::parent)
                .is_some_and(|m| m.ends_with(hierarchy));
        if racer && slot.borrow().is_none() {
            *slot.borrow_mut() = Some(sweep_orphans(&layout, Path::new("box")));
        }
    });
    result
}

#[test]
fn a_creator_that_loses_its_first_directory_to_a_sweep_makes_it_again() {
    let (root, layout, _g) = v2_tree();
    let root_name = root.path().file_name().unwrap().to_str().unwrap();
    let name: &'static str = Box::leak(root_name.to_string().into_boxed_str());
    let result = sweep_when_made(&layout, name);
    let cg = Cgroup::create(&layout, Path::new("box/racer"), &res()).unwrap();
    let sweep = result.borrow_mut().take().expect("the sweep ran");
    assert_eq!(sweep.removed, vec![PathBuf::from("box/racer")]);
    // The creator noticed and made it again, limits and all.
    let dir = root.path().join("box/racer");
    assert_eq!(crate::testing::cat(&dir, "pids.max"), "16");
    assert!(Cgroup::claim(&layout, Path::new("box/racer"))
        .unwrap()
        .is_none());
    cg.destroy().unwrap();
}

#[test]
fn a_sweep_leaves_a_cgroup_whose_creator_is_half_way() {
    // The creator locked its first directories and is making the last one (unified).
    let (_top, layout, _g) = v1_tree(true);
    let result = sweep_when_made(&layout, "unified");
    let cg = Cgroup::create(&layout, Path::new("box/racer"), &res()).unwrap();
    let sweep = result.borrow_mut().take().expect("the sweep ran");
    assert!(sweep.removed.is_empty() && sweep.failed.is_empty());
    assert_eq!(existing(&layout, "box/racer").len(), 6);
    cg.destroy().unwrap();
}
