//! Orphan sweeps on fake trees: owned cgroups stay, orphans go, a name's own orphan can be
//! removed alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;
use crate::resources::Resources;
use crate::testing::{v1_tree, v2_tree};

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
    assert!(again.removed.is_empty() && again.failed.is_empty() && !again.skipped);
    let roots = layout.roots().unwrap();
    assert!(
        Cgroup::claim(layout, &roots, Path::new("box/live"), Part::All)
            .unwrap()
            .is_none()
    );
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
        let dir = crate::testing::dir(&top.path().join(gone));
        crate::fs::rmdir(&dir.join("box/half").unwrap()).unwrap();
    }
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert_eq!(sweep.removed, vec![PathBuf::from("box/half")]);
    assert!(existing(&layout, "box/half").is_empty());
}

/// Leaves `rel` on the hierarchy mounted at `keep` only.
fn only_on(layout: &Layout, rel: &str, keep: &Path) {
    orphan(layout, rel);
    for mount in layout.mount_points() {
        if mount != keep {
            let dir = crate::testing::dir(mount);
            crate::fs::rmdir(&dir.join(rel).unwrap()).unwrap();
        }
    }
}

#[test]
fn a_sweep_looks_at_the_first_and_last_hierarchy_before_the_rest() {
    let (_top, layout, _g) = v1_tree(true);
    let mounts: Vec<PathBuf> = layout
        .mount_points()
        .iter()
        .map(|m| m.to_path_buf())
        .collect();
    assert!(mounts.len() >= 3);
    // Left by a creator or a remover killed half-way: on the first or the last.
    only_on(&layout, "box/head", &mounts[0]);
    only_on(&layout, "box/tail", &mounts[mounts.len() - 1]);
    let sweep = sweep_orphans(&layout, Path::new("box"));
    let mut removed = sweep.removed.clone();
    removed.sort();
    assert_eq!(
        removed,
        [PathBuf::from("box/head"), PathBuf::from("box/tail")]
    );
    // On a middle one only, which box never leaves: not seen while both ends are clean.
    only_on(&layout, "box/middle", &mounts[1]);
    let sweep = sweep_orphans(&layout, Path::new("box"));
    assert!(sweep.removed.is_empty() && sweep.failed.is_empty());
    assert_eq!(existing(&layout, "box/middle").len(), 1);
    assert!(remove_orphan(&layout, Path::new("box/middle")).unwrap());
}

#[test]
fn remove_orphan_frees_one_name_and_leaves_owned_ones() {
    let (root, layout, _g) = v2_tree();
    let live = Cgroup::create(&layout, Path::new("box/live"), &res()).unwrap();
    orphan(&layout, "box/web");
    let err = Cgroup::create(&layout, Path::new("box/web"), &res()).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert!(remove_orphan(&layout, Path::new("box/web")).unwrap());
    assert!(
        !remove_orphan(&layout, Path::new("box/web")).unwrap(),
        "gone now"
    );
    assert!(
        !remove_orphan(&layout, Path::new("box/live")).unwrap(),
        "owned"
    );
    assert!(root.path().join("box/live").is_dir());
    let web = Cgroup::create(&layout, Path::new("box/web"), &res()).unwrap();
    web.destroy().unwrap();
    live.destroy().unwrap();
}

#[test]
fn a_look_probes_a_bounded_run_of_children_wrapping_around() {
    let names: Vec<OsString> = (0..20).map(|i| OsString::from(i.to_string())).collect();
    let run = |max, start| -> Vec<String> {
        probed(&names, max, start)
            .map(|n| n.to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(run(8, 15), ["15", "16", "17", "18", "19", "0", "1", "2"]);
    assert_eq!(run(8, 43), ["3", "4", "5", "6", "7", "8", "9", "10"]);
    assert_eq!(run(20, 7).len(), 20, "all, from the first, when they fit");
    assert_eq!(run(usize::MAX, 7)[0], "0");
}

#[test]
fn a_start_path_sweep_among_many_live_cgroups_finds_an_orphan_within_a_few_looks() {
    let (_top, layout, _g) = v2_tree();
    let live: Vec<Cgroup> = (0..2 * MAX_PROBES)
        .map(|i| Cgroup::create(&layout, Path::new(&format!("box/live{i:02}")), &res()).unwrap())
        .collect();
    // Sorted after every live one: the first look, from the first child, does not reach it,
    // where the whole sweep would.
    orphan(&layout, "box/zz-dead");
    let first = sweep_looking_at(&layout, Path::new("box"), MAX_PROBES, 0);
    assert!(first.removed.is_empty(), "{first:?}");
    assert_eq!(existing(&layout, "box/zz-dead").len(), 1);
    // The looks that follow start further on: one of them reaches it.
    let found = (1..=2)
        .map(|k| sweep_looking_at(&layout, Path::new("box"), MAX_PROBES, k * MAX_PROBES))
        .any(|s| s.removed == [PathBuf::from("box/zz-dead")]);
    assert!(found);
    assert!(existing(&layout, "box/zz-dead").is_empty());
    for cg in live {
        cg.destroy().unwrap();
    }
}
