//! Test support: a fake cgroupfs in a temporary directory.
//!
//! A real cgroupfs fills every new directory with its control files and lets `rmdir` remove
//! a directory that still holds them. A tmpfs does neither, so tests install a per-thread
//! hook that plays the kernel's part; production code never sees it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::fs::{Dir, Root};
use crate::layout::{Controller, Layout};

type Populate = Box<dyn Fn(&Path)>;

thread_local! {
    static FAKE: RefCell<Option<Populate>> = const { RefCell::new(None) };
    static AFTER_MKDIR: RefCell<Option<Populate>> = const { RefCell::new(None) };
    static BEFORE_PARENT_LOCK: RefCell<Option<Populate>> = const { RefCell::new(None) };
}

/// Run `hook` when a creator has opened a parent and is about to lock it (e.g. to prune it
/// in that instant); removed with the [`fake_cgroupfs`] guard.
pub(crate) fn before_parent_lock(hook: impl Fn(&Path) + 'static) {
    BEFORE_PARENT_LOCK.with(|f| *f.borrow_mut() = Some(Box::new(hook)));
}

pub(crate) fn on_parent_lock(path: &Path) {
    BEFORE_PARENT_LOCK.with(|f| {
        if let Some(hook) = f.borrow().as_ref() {
            hook(path)
        }
    })
}

/// Also run `hook` after each fake mkdir (once the directory is populated), e.g. to race a
/// sweep against a creator; removed with the [`fake_cgroupfs`] guard.
pub(crate) fn after_mkdir(hook: impl Fn(&Path) + 'static) {
    AFTER_MKDIR.with(|f| *f.borrow_mut() = Some(Box::new(hook)));
}

/// Make this thread's `mkdir`s populate new directories with `populate`, and its `rmdir`s
/// delete the files first, until the returned guard is dropped.
pub(crate) fn fake_cgroupfs(populate: impl Fn(&Path) + 'static) -> FakeGuard {
    FAKE.with(|f| *f.borrow_mut() = Some(Box::new(populate)));
    FakeGuard
}

pub(crate) struct FakeGuard;

impl Drop for FakeGuard {
    fn drop(&mut self) {
        FAKE.with(|f| *f.borrow_mut() = None);
        AFTER_MKDIR.with(|f| *f.borrow_mut() = None);
        BEFORE_PARENT_LOCK.with(|f| *f.borrow_mut() = None);
    }
}

pub(crate) fn on_mkdir(path: &Path) {
    FAKE.with(|f| {
        if let Some(populate) = f.borrow().as_ref() {
            populate(path)
        }
    });
    AFTER_MKDIR.with(|f| {
        if let Some(hook) = f.borrow().as_ref() {
            hook(path)
        }
    })
}

pub(crate) fn before_rmdir(path: &Path) {
    let fake = FAKE.with(|f| f.borrow().is_some());
    if !fake {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A prepared directory as the root of a hierarchy of its own, for a controller module to
/// read and write.
pub(crate) fn dir(path: &Path) -> Dir {
    Dir::root(&Arc::new(Root::open_given(path).unwrap()))
}

/// Create `dir/name` with `content` for each pair.
pub(crate) fn files(dir: &Path, list: &[(&str, &str)]) {
    for (name, content) in list {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

/// Read a file of a fake tree, for assertions.
pub(crate) fn cat(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

const V2_FILES: &[(&str, &str)] = &[
    ("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n"),
    ("cgroup.subtree_control", ""),
    ("cgroup.procs", ""),
    ("cgroup.kill", ""),
    ("memory.max", "max\n"),
    ("memory.swap.max", "max\n"),
    ("memory.low", "0\n"),
    ("memory.high", "max\n"),
    ("hugetlb.2MB.max", "max\n"),
    ("memory.events", "oom 0\noom_kill 0\n"),
    ("cpu.max", "max 100000\n"),
    ("cpu.weight", "100\n"),
    ("cpu.stat", "usage_usec 0\n"),
    ("pids.max", "max\n"),
    ("pids.current", "0\n"),
    ("io.max", ""),
    ("io.weight", "default 100\n"),
    ("cpuset.cpus", ""),
    ("cpuset.mems", ""),
];

fn v1_files(c: Controller) -> &'static [(&'static str, &'static str)] {
    match c {
        Controller::Memory => &[
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
            ("memory.soft_limit_in_bytes", "9223372036854771712\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            ),
        ],
        Controller::Cpu => &[
            ("cpu.shares", "1024\n"),
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
        ],
        Controller::Cpuset => &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")],
        Controller::Pids => &[("pids.max", "max\n"), ("pids.current", "0\n")],
        Controller::Freezer => &[("freezer.state", "THAWED\n")],
        _ => &[],
    }
}

/// A pure v2 tree; new directories get the v2 files.
pub(crate) fn v2_tree() -> (tempfile::TempDir, Layout, FakeGuard) {
    let root = tempfile::tempdir().unwrap();
    files(root.path(), V2_FILES);
    let guard = fake_cgroupfs(|dir| files(dir, V2_FILES));
    let layout = Layout::v2(root.path().to_path_buf()).unwrap();
    (root, layout, guard)
}

/// v1 hierarchies `<tmp>/<name>` (cpu and cpuacct co-mounted), optionally a cgroup2 at
/// `<tmp>/unified` with no controllers (hybrid).
pub(crate) fn v1_tree(hybrid: bool) -> (tempfile::TempDir, Layout, FakeGuard) {
    let top = tempfile::tempdir().unwrap();
    let t = top.path().to_path_buf();
    let mounts: Vec<(&str, Vec<Controller>)> = vec![
        ("memory", vec![Controller::Memory]),
        ("cpu,cpuacct", vec![Controller::Cpu, Controller::Cpuacct]),
        ("cpuset", vec![Controller::Cpuset]),
        ("pids", vec![Controller::Pids]),
        ("freezer", vec![Controller::Freezer]),
    ];
    let mut map = BTreeMap::new();
    for (name, controllers) in &mounts {
        let m = t.join(name);
        std::fs::create_dir(&m).unwrap();
        files(&m, &[("cgroup.procs", "")]);
        for c in controllers {
            files(&m, v1_files(*c));
            map.insert(*c, m.clone());
        }
    }
    files(
        &t.join("cpuset"),
        &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
    );
    let unified = t.join("unified");
    std::fs::create_dir(&unified).unwrap();
    files(
        &unified,
        &[
            ("cgroup.controllers", "hugetlb\n"),
            ("cgroup.subtree_control", ""),
        ],
    );
    let populate_top = t.clone();
    let guard = fake_cgroupfs(move |dir| {
        files(dir, &[("cgroup.procs", "")]);
        let rel = dir.strip_prefix(&populate_top).unwrap();
        let mount = rel.iter().next().unwrap().to_str().unwrap();
        if mount == "unified" {
            files(dir, &[("cgroup.subtree_control", ""), ("cgroup.kill", "")]);
        } else {
            files(dir, &[("tasks", "")]);
        }
        for (name, controllers) in &mounts {
            if *name == mount {
                controllers.iter().for_each(|c| files(dir, v1_files(*c)));
            }
        }
    });
    let layout = if hybrid {
        Layout::hybrid(map, unified).unwrap()
    } else {
        Layout::v1(map)
    };
    (top, layout, guard)
}
