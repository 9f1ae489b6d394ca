//! Root tests of the overlay root: read-only layers under a container's own upper directory,
//! built in throwaway namespaces, then the layers checked from the host.

#[allow(dead_code)]
mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use box_rootfs::{Overlay, Root, RootfsConfig};
use common::checks::{common_checks, erofs, run, sh_ok, tiny_root};
use common::{fs_type, in_container};

/// Two layers: the bottom one a tiny busybox root, the top one replacing a file and hiding
/// another with a whiteout (a 0/0 character device, as box's image store writes them).
fn layers(tmp: &Path) -> Vec<PathBuf> {
    let bottom = tiny_root(tmp);
    fs::write(bottom.join("gone"), b"lower").unwrap();
    fs::write(bottom.join("replaced"), b"lower").unwrap();
    let top = tmp.join("top");
    fs::create_dir(&top).unwrap();
    fs::write(top.join("replaced"), b"upper layer").unwrap();
    nix::sys::stat::mknod(
        &top.join("gone"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .unwrap();
    vec![bottom, top]
}

/// Every file under `dir` with its content and inode: what a container must never change.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let data = if m.is_file() {
                fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            if m.is_dir() {
                todo.push(p.clone());
            }
            out.push((p, m.ino(), m.mtime() as u64, data));
        }
    }
    out.sort();
    out
}

fn config(tmp: &Path, readonly: bool) -> (RootfsConfig, Overlay) {
    let overlay = Overlay {
        layers: layers(tmp),
        dir: tmp.join("state/overlay"),
    };
    fs::create_dir_all(tmp.join("state")).unwrap();
    let cfg = RootfsConfig {
        root: Root::Overlay(overlay.clone()),
        readonly,
        ..Default::default()
    };
    (cfg, overlay)
}

#[test]
fn overlay_root_writes_only_its_upper_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, overlay) = config(tmp.path(), false);
    let prepared = box_rootfs::prepare(&cfg).unwrap();
    let dirs = prepared
        .create()
        .unwrap()
        .expect("an overlay root makes its directories");
    let before: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    // `volatile` spares a disk the sync at the overlay's end; a tmpfs never syncs.
    let upper = overlay.upper().display().to_string();
    let tmpfs = fs_type(&upper).unwrap() == nix::sys::statfs::TMPFS_MAGIC;
    in_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        let read = |p: &str| fs::read(p).map_err(|e| format!("read {p}: {e}"));
        ensure!(read("/marker")? == b"inside", "the bottom layer shows");
        ensure!(read("/replaced")? == b"upper layer", "the top layer wins");
        ensure!(
            !Path::new("/gone").exists(),
            "a whiteout hides the lower file"
        );
        let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        let root = info
            .lines()
            .find(|l| l.split(' ').nth(4) == Some("/"))
            .ok_or("no root mount")?;
        ensure!(
            root.contains(" - overlay "),
            "the root is an overlay: {root}"
        );
        ensure!(
            root.contains("volatile") != tmpfs,
            "volatile unless the upper directory is on a tmpfs: {root}"
        );
        // Writes, replacements, deletions, renames and attribute changes of lower files.
        sh_ok(&[
            "/bin/busybox",
            "sh",
            "-c",
            "set -e; b=/bin/busybox; echo new > /new; echo changed > /marker; \
             $b rm /replaced; $b cp /marker /copy; $b mv /copy /bin/moved; \
             $b chmod 4700 $b; $b chown 1:1 /bin; $b mkdir -p /d/e; $b touch /bin; \
             $b chmod 755 $b",
        ])?;
        ensure!(read("/marker")? == b"changed\n", "the write shows");
        ensure!(!Path::new("/replaced").exists(), "the removal shows");
        Ok(())
    });
    let after: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    assert_eq!(before, after, "the layers are untouched");
    assert_eq!(fs::read(overlay.upper().join("new")).unwrap(), b"new\n");
    assert!(overlay.upper().join("marker").exists(), "copied up");
    dirs.remove().unwrap();
    assert!(!overlay.dir.exists());
}

#[test]
fn readonly_overlay_root() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, overlay) = config(tmp.path(), true);
    let dirs = box_rootfs::prepare(&cfg)
        .unwrap()
        .create()
        .unwrap()
        .unwrap();
    let before: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    in_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        erofs("/new")?;
        erofs("/marker")?;
        Ok(())
    });
    let after: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    assert_eq!(before, after);
    let written: Vec<_> = fs::read_dir(overlay.upper())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    // Only the mount points box made for /proc, /sys and /dev (a tiny root lacks them).
    for name in &written {
        assert!(
            ["proc", "sys", "dev"].contains(&name.to_str().unwrap()),
            "{name:?}"
        );
    }
    dirs.remove().unwrap();
}

#[test]
fn a_missing_layer_is_named_before_anything_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut cfg, overlay) = config(tmp.path(), false);
    let Root::Overlay(o) = &mut cfg.root else {
        unreachable!()
    };
    o.layers.push(tmp.path().join("absent"));
    let err = box_rootfs::prepare(&cfg).unwrap_err();
    assert!(err.to_string().contains("absent"), "{err}");
    assert!(!overlay.dir.exists());
}

/// `Overlay::mount_idmapped`: layers idmapped with a user namespace whose root is host uid
/// 100000 show their uid-0 files as 100000 through the overlay, the whiteout still hides,
/// the upper directory given to that root is the overlay's root; the layers on the disk
/// keep uid 0, and nothing is attached to the host's mount table.
#[test]
fn an_overlay_on_idmapped_layers() {
    use std::os::fd::AsRawFd;
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, overlay) = config(tmp.path(), false);
    let dirs = box_rootfs::prepare(&cfg)
        .unwrap()
        .create()
        .unwrap()
        .unwrap();
    dirs.give_upper(100_000, 100_000).unwrap();
    // A process in a user namespace of its own (util-linux's unshare), its maps written.
    let mut holder = std::process::Command::new("unshare")
        .args(["--user", "sleep", "30"])
        .spawn()
        .expect("unshare (util-linux)");
    let host_userns = fs::metadata("/proc/self/ns/user").unwrap().ino();
    let ns_path = format!("/proc/{}/ns/user", holder.id());
    for _ in 0..500 {
        if fs::metadata(&ns_path).is_ok_and(|m| m.ino() != host_userns) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    for map in ["uid_map", "gid_map"] {
        fs::write(format!("/proc/{}/{map}", holder.id()), "0 100000 65536").unwrap();
    }
    let userns = fs::File::open(&ns_path).unwrap();
    let before: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    let made = overlay
        .mount_idmapped(std::os::fd::AsFd::as_fd(&userns))
        .unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let root = PathBuf::from(format!("/proc/self/fd/{}", made.as_raw_fd()));
    let owner = |p: &str| {
        let m = fs::symlink_metadata(root.join(p)).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(owner("marker"), (100_000, 100_000), "a layer's uid-0 file");
    assert_eq!(owner("bin/busybox"), (100_000, 100_000));
    assert_eq!(owner(""), (100_000, 100_000), "the upper directory");
    assert_eq!(fs::read(root.join("replaced")).unwrap(), b"upper layer");
    assert!(
        !root.join("gone").exists(),
        "the whiteout hides the lower file"
    );
    let ours = tmp.path().display().to_string();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !info.lines().any(|l| l.contains(&ours)),
        "nothing attached on the host:\n{info}"
    );
    drop(made);
    let after: Vec<_> = overlay.layers.iter().map(|l| snapshot(l)).collect();
    assert_eq!(before, after, "the layers are untouched");
    assert_eq!(
        fs::metadata(overlay.layers[0].join("marker"))
            .unwrap()
            .uid(),
        0
    );
    dirs.remove().unwrap();
}
