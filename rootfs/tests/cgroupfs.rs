//! Root tests: Docker's `/sys/fs/cgroup` (`RootfsConfig::cgroupfs`) in a cgroup namespace of
//! the test's own: cgroup2 alone, or runc's tmpfs of hierarchies; all of it read-only, and
//! an unresolved `Detect` refused; mounted last, from what a `BeforeCgroupfs` hands back.

#[allow(dead_code)] // shared with setup.rs, which uses all of it
mod common;

use std::fs;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use box_rootfs::{BeforeCgroupfs, CgroupFs, CgroupHierarchy, CgroupView, Root, RootfsConfig};
use common::checks::{erofs, run, tiny_root};
use common::{fs_type, in_container, is_readonly};
use nix::sched::{unshare, CloneFlags};
use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, TMPFS_MAGIC};
use nix::sys::statvfs::{statvfs, FsFlags};

fn config(tmp: &std::path::Path, fs: CgroupFs) -> RootfsConfig {
    RootfsConfig {
        root: Root::Dir(tiny_root(tmp)),
        cgroupfs: Some(fs),
        ..Default::default()
    }
}

fn new_cgroupns() -> common::Check {
    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|e| format!("unshare cgroup ns: {e}"))
}

#[test]
fn unified_is_cgroup2_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), CgroupFs::Unified);
    in_container(tmp.path(), || {
        new_cgroupns()?;
        run(&cfg)?;
        crate::ensure!(
            fs_type("/sys/fs/cgroup")? == CGROUP2_SUPER_MAGIC,
            "not cgroup2"
        );
        crate::ensure!(is_readonly("/sys/fs/cgroup")?, "writable");
        erofs("/sys/fs/cgroup/cgroup.procs")
    });
}

/// The directory name of the host's v1 memory hierarchy, if it has one (mountinfo's
/// `cgroup` line whose super options name `memory`).
fn v1_memory_hierarchy() -> Option<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let mut right = right.split(' ');
        let v1_memory =
            right.next() == Some("cgroup") && right.nth(1)?.split(',').any(|o| o == "memory");
        let point = left.split(' ').nth(4)?;
        v1_memory.then(|| point.rsplit('/').next().unwrap_or_default().to_string())
    })
}

#[test]
fn hierarchies_sit_on_a_read_only_tmpfs() {
    let memory = v1_memory_hierarchy();
    let tmp = tempfile::tempdir().unwrap();
    // cgroup2 mounts on any host; a v1 hierarchy only where the host has it.
    let mut list = vec![CgroupHierarchy {
        name: "unified".into(),
        controllers: vec![],
    }];
    list.extend(memory.iter().map(|name| CgroupHierarchy {
        name: name.clone(),
        controllers: vec!["memory".into()],
    }));
    let cfg = config(tmp.path(), CgroupFs::Hierarchies(list));
    in_container(tmp.path(), || {
        new_cgroupns()?;
        run(&cfg)?;
        crate::ensure!(fs_type("/sys/fs/cgroup")? == TMPFS_MAGIC, "not a tmpfs");
        crate::ensure!(is_readonly("/sys/fs/cgroup")?, "the tmpfs is writable");
        erofs("/sys/fs/cgroup/new")?;
        let u = "/sys/fs/cgroup/unified";
        crate::ensure!(fs_type(u)? == CGROUP2_SUPER_MAGIC, "{u}: not cgroup2");
        crate::ensure!(is_readonly(u)?, "{u}: writable");
        if let Some(name) = &memory {
            let at = format!("/sys/fs/cgroup/{name}");
            crate::ensure!(fs_type(&at)? == CGROUP_SUPER_MAGIC, "{at}: not cgroup");
            crate::ensure!(is_readonly(&at)?, "{at}: writable");
            erofs(&format!("{at}/memory.limit_in_bytes"))?;
        }
        let names = fs::read_dir("/sys/fs/cgroup")
            .map_err(|e| e.to_string())?
            .count();
        crate::ensure!(
            names == 1 + usize::from(memory.is_some()),
            "{names} entries"
        );
        Ok(())
    });
}

#[test]
fn an_unresolved_detect_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), CgroupFs::Detect);
    in_container(tmp.path(), || match box_rootfs::setup(&cfg) {
        Err(e) if e.to_string().contains("cgroup hierarchies were not given") => Ok(()),
        other => Err(format!("{other:?}")),
    });
}

/// The mount point of this host's cgroup2 hierarchy.
fn unified_mount() -> String {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split(' ').nth(4).map(String::from))?
        })
        .expect("a cgroup2 mount")
}

/// A `BeforeCgroupfs` that hands back `view`, and says whether its steps ran in order.
struct Hand {
    view: Option<CgroupView>,
    calls: Vec<&'static str>,
}

impl BeforeCgroupfs for Hand {
    fn before(&mut self) -> Result<(), String> {
        self.calls.push("before");
        Ok(())
    }

    fn view(&mut self) -> Result<Option<CgroupView>, String> {
        self.calls.push("view");
        Ok(self.view.take())
    }
}

/// A view of one hierarchy, `unified`.
fn unified_fs() -> CgroupFs {
    CgroupFs::Hierarchies(vec![CgroupHierarchy {
        name: "unified".into(),
        controllers: vec![],
    }])
}

/// A root whose `/sys/fs/cgroup` is that view.
fn unified_view(tmp: &std::path::Path) -> box_rootfs::Prepared {
    box_rootfs::prepare(&config(tmp, unified_fs())).unwrap()
}

/// A bind of the directory `path`.
fn bind(path: &str) -> Result<OwnedFd, String> {
    let dir = fs::File::open(path).map_err(|e| format!("open {path}: {e}"))?;
    box_rootfs::bind_of_directory(dir.as_fd(), path.as_ref()).map_err(|e| e.to_string())
}

/// The view of `unified_fs` made whole from a bind of `path`, as box's parent makes it.
fn tree_of(path: &str) -> Result<Option<CgroupView>, String> {
    let made = bind(path)?;
    let mut made = Some(made);
    box_rootfs::view_tree(&unified_fs(), |_| made.take()).map_err(|e| e.to_string())
}

/// One hierarchy, `unified`, from what the hook hands back (the whole tree, or a bind for
/// the child to attach): the host's cgroup2 (the same device), read-only, nosuid, nodev and
/// noexec whatever the host's mount is, after `before`.
#[test]
fn a_last_view_mounts_what_its_hook_hands_back() {
    let source = unified_mount();
    let device = fs::metadata(&source).unwrap().dev();
    for whole in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let prepared = unified_view(tmp.path());
        in_container(tmp.path(), || {
            new_cgroupns()?;
            let view = match whole {
                true => tree_of(&source)?,
                false => Some(CgroupView::Binds(vec![bind(&source)?])),
            };
            crate::ensure!(
                matches!(view, Some(CgroupView::Tree(_))) == whole,
                "this kernel makes no tree: {view:?}"
            );
            let mut hand = Hand {
                view,
                calls: Vec::new(),
            };
            prepared
                .apply_cgroupfs_last(None, None, &mut hand)
                .map_err(|e| e.to_string())?;
            crate::ensure!(hand.calls == ["before", "view"], "{:?}", hand.calls);
            let u = "/sys/fs/cgroup/unified";
            crate::ensure!(fs_type(u)? == CGROUP2_SUPER_MAGIC, "{u}: not cgroup2");
            let inside = fs::metadata(u).map_err(|e| e.to_string())?.dev();
            crate::ensure!(inside == device, "{u}: not the host's cgroup2");
            crate::ensure!(is_readonly(u)?, "{u}: writable");
            crate::ensure!(is_readonly("/sys/fs/cgroup")?, "the tmpfs is writable");
            let locked = FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_NOEXEC;
            let flags = statvfs(u).map_err(|e| e.to_string())?.flags();
            crate::ensure!(flags.contains(locked), "{u}: {flags:?}");
            erofs(&format!("{u}/cgroup.procs"))
        });
    }
}

/// A bind of another filesystem is refused by name: by the parent making the tree, and by
/// the child attaching binds; so is a tree that is not a read-only tmpfs.
#[test]
fn a_view_of_another_filesystem_is_refused() {
    let kind = "not of that cgroup hierarchy's kind";
    match tree_of("/tmp") {
        Err(e) if e.contains(kind) => {}
        other => panic!("{other:?}"),
    }
    let writable = "not a read-only tmpfs of hierarchies";
    for (view, refusal) in [
        (|| Ok(CgroupView::Binds(vec![bind("/tmp")?])), kind),
        // /dev/shm: a tmpfs, writable.
        (|| Ok(CgroupView::Tree(bind("/dev/shm")?)), writable),
    ] as [(fn() -> Result<CgroupView, String>, &str); 2]
    {
        let tmp = tempfile::tempdir().unwrap();
        let prepared = unified_view(tmp.path());
        in_container(tmp.path(), || {
            let mut hand = Hand {
                view: Some(view()?),
                calls: Vec::new(),
            };
            match prepared.apply_cgroupfs_last(None, None, &mut hand) {
                Err(e) if e.to_string().contains(refusal) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
    }
}
