//! Only mounts that a path lookup reaches count: crafted mountinfo where cgroup mounts are
//! mounted over, directly or through a directory above them.

use std::path::Path;

use super::mountinfo::parse;
use super::visible::Graph;
use super::*;

/// This machine's hybrid layout (see tests.rs), with ids and parents.
const HYBRID: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

fn with(extra: &str) -> String {
    format!("{HYBRID}{extra}")
}

/// Which mount points of `text` are visible.
fn visible_points(text: &str) -> Vec<String> {
    let mounts = parse(text).unwrap();
    let graph = Graph::new(&mounts);
    (0..mounts.len())
        .filter(|&i| graph.is_visible(i))
        .map(|i| format!("{} {}", mounts[i].id, mounts[i].mount_point.display()))
        .collect()
}

#[test]
fn nothing_mounted_over_everything_counts() {
    let l = Layout::from_mountinfo(HYBRID).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
    assert_eq!(visible_points(HYBRID).len(), 7);
}

#[test]
fn a_tmpfs_over_sys_fs_cgroup_with_v1_bound_back_hides_cgroup2() {
    // The namespace: a tmpfs on /sys/fs/cgroup (stacked on the old one), the v1
    // hierarchies bind-mounted back, the cgroup2 mount left underneath.
    let text = with(
        "\
50 31 0:60 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw
51 50 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
52 50 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
53 50 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
",
    );
    let l = Layout::from_mountinfo(&text).unwrap();
    assert_eq!(l.mode(), Mode::V1);
    assert_eq!(l.v2_root(), None);
    assert_eq!(
        l.location(Controller::Memory),
        Some(Location::V1(Path::new("/sys/fs/cgroup/memory")))
    );
    let shown = visible_points(&text);
    for hidden in ["31 ", "32 ", "35 ", "39 ", "41 "] {
        assert!(
            !shown.iter().any(|s| s.starts_with(hidden)),
            "{hidden}: {shown:?}"
        );
    }
    assert!(shown.contains(&"50 /sys/fs/cgroup".to_string()));
    assert!(shown.contains(&"52 /sys/fs/cgroup/memory".to_string()));
}

#[test]
fn a_mount_over_a_directory_above_hides_everything_below() {
    // A tmpfs on /sys/fs, beside /sys/fs/cgroup under /sys: no cgroup is reachable any more.
    let err = Layout::from_mountinfo(&with("60 23 0:61 / /sys/fs rw - tmpfs tmpfs rw\n"));
    assert!(matches!(err, Err(Error::NoCgroupMounts)), "{err:?}");
    // One on /sys itself (stacked on sysfs) hides it all the same.
    let err = Layout::from_mountinfo(&with("60 23 0:61 / /sys rw - tmpfs tmpfs rw\n"));
    assert!(matches!(err, Err(Error::NoCgroupMounts)), "{err:?}");
    // A new cgroup2 mounted inside the new tmpfs is what counts then.
    let l = Layout::from_mountinfo(&with(
        "\
60 23 0:61 / /sys/fs rw - tmpfs tmpfs rw
61 60 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
",
    ))
    .unwrap();
    assert_eq!(l.mode(), Mode::V2);
    assert_eq!(l.v2_root(), Some(Path::new("/sys/fs/cgroup")));
}

#[test]
fn the_last_mount_at_a_point_wins() {
    // The memory hierarchy bound over cgroup2 at the same point.
    let l = Layout::from_mountinfo(&with(
        "70 41 0:32 / /sys/fs/cgroup/unified rw - cgroup cgroup rw,memory\n",
    ))
    .unwrap();
    assert_eq!(l.mode(), Mode::V1);
    assert!(l.has(Controller::Memory));
    // Two mounts on one point of the same parent (propagation can do that): the later one.
    let text = with("71 31 0:70 / /sys/fs/cgroup/pids rw - tmpfs tmpfs rw\n");
    let l = Layout::from_mountinfo(&text).unwrap();
    assert!(!l.has(Controller::Pids));
    assert!(l.has(Controller::Cpu));
}

#[test]
fn a_mount_tucked_beneath_stays_hidden_and_the_one_on_top_counts() {
    // Mount propagation can slide a new mount (72) under an existing one (41), which is then
    // re-parented onto it: 41 is still the one on top.
    let text = HYBRID.replace("41 31 0:38", "41 72 0:38")
        + "72 31 0:71 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw\n";
    let l = Layout::from_mountinfo(&text).unwrap();
    assert_eq!(l.v2_root(), Some(Path::new("/sys/fs/cgroup/unified")));
    assert!(!visible_points(&text).contains(&"72 /sys/fs/cgroup/unified".to_string()));
}

#[test]
fn neighbours_and_names_that_only_share_a_prefix_hide_nothing() {
    let text = with(
        "\
80 23 0:80 / /sys/fs/cgroupx rw - tmpfs tmpfs rw
81 31 0:81 / /sys/fs/cgroup/cpu2 rw - tmpfs tmpfs rw
82 27 0:82 / /mnt rw - tmpfs tmpfs rw
",
    );
    let l = Layout::from_mountinfo(&text).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
    assert_eq!(l.v1_hierarchies().len(), 3);
}

#[test]
fn roots_without_a_listed_parent_and_loops_are_reachable() {
    // A namespace root naming itself as parent, and a loop in bad input, end the walk.
    let text = "\
1 1 0:1 / / rw - ext4 /dev/vda rw
5 6 0:5 / /a rw - cgroup2 cgroup2 rw
6 5 0:6 / /b rw - cgroup cgroup rw,pids
";
    let l = Layout::from_mountinfo(text).unwrap();
    assert_eq!(l.mode(), Mode::Hybrid);
}

#[test]
fn a_layout_from_mountinfo_is_verified_and_a_given_one_is_not() {
    assert!(Layout::from_mountinfo(HYBRID).unwrap().is_verified());
    assert!(!Layout::v1(BTreeMap::new()).is_verified());
}
