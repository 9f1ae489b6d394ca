//! Root tests: the mount list beyond box.toml's binds and tmpfs. Options in OCI's words reach
//! the kernel; mounts below `/sys` and `/dev` go through box's own mounts there; a list
//! without `/proc`, `/sys` and `/dev` still starts, and what it cannot do safely it refuses.

#[allow(dead_code)] // shared with setup.rs, which uses all of it
mod common;

use std::fs;
use std::path::Path;

use box_rootfs::{setup, Error, Mount, Root, RootfsConfig};
use common::checks::{common_checks, run, tiny_root};
use common::{fs_type, in_container};
use nix::sys::statfs::TMPFS_MAGIC;
use nix::sys::statvfs::{statvfs, FsFlags};

fn flags(p: &str) -> Result<FsFlags, String> {
    statvfs(p)
        .map(|s| s.flags())
        .map_err(|e| format!("statvfs {p}: {e}"))
}

fn parse(dest: &str, fstype: Option<&str>, source: Option<&Path>, opts: &[&str]) -> Mount {
    Mount::parse(dest, fstype, source.map(Path::to_path_buf), opts).unwrap()
}

/// The optional fields of `point`'s line in mountinfo (`shared:N`, `master:N`).
fn propagation_of(point: &str) -> Result<String, String> {
    let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let line = info
        .lines()
        .rev()
        .find(|l| l.split_whitespace().nth(4) == Some(point))
        .ok_or(format!("{point} not in mountinfo"))?;
    let left = line.split(" - ").next().unwrap_or_default();
    Ok(left
        .split_whitespace()
        .skip(6)
        .collect::<Vec<_>>()
        .join(" "))
}

#[test]
fn oci_options_reach_the_kernel() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    let data = tmp.path().join("data");
    fs::create_dir_all(data.join("sub")).unwrap();
    fs::write(data.join("sub/below"), b"under the submount").unwrap();
    let mut cfg = RootfsConfig {
        root: Root::Dir(root),
        ..Default::default()
    };
    let d = Some(data.as_path());
    cfg.mounts.extend([
        parse(
            "/top",
            None,
            d,
            &["bind", "ro", "nosuid", "nodev", "noexec"],
        ),
        parse("/tree", None, d, &["rbind", "rro"]),
        parse("/shared", None, d, &["rbind", "shared"]),
        parse("/t", Some("tmpfs"), None, &["ro", "noexec", "size=1m"]),
        // Below box's read-only sysfs and its /dev: through the handles on those mounts.
        parse(
            "/sys/fs/cgroup",
            Some("tmpfs"),
            Some(Path::new("cg")),
            &["ro", "mode=755"],
        ),
        parse("/dev/extra/deep", Some("tmpfs"), None, &["nosuid"]),
    ]);
    let sub = data.join("sub");
    in_container(tmp.path(), || {
        // A submount of the bind source, in this test's mount namespace only.
        nix::mount::mount(
            Some("tmpfs"),
            &sub,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .map_err(|e| format!("submount: {e}"))?;
        run(&cfg)?;
        common_checks()?;
        let want = FsFlags::ST_RDONLY | FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_NOEXEC;
        ensure!(flags("/top")?.contains(want), "/top: {:?}", flags("/top")?);
        // bind: the source's mount only, so the submount's directory shows what is under it.
        ensure!(
            Path::new("/top/sub/below").exists(),
            "bind took the submount along"
        );
        // rbind: the submount too, and rro made it read-only as well.
        ensure!(
            fs_type("/tree/sub")? == TMPFS_MAGIC,
            "rbind left the submount out"
        );
        ensure!(
            flags("/tree")?.contains(FsFlags::ST_RDONLY),
            "/tree writable"
        );
        ensure!(
            flags("/tree/sub")?.contains(FsFlags::ST_RDONLY),
            "/tree/sub writable"
        );
        ensure!(
            !flags("/tree")?.contains(FsFlags::ST_NOSUID),
            "/tree got nosuid"
        );
        ensure!(
            propagation_of("/shared")?.starts_with("shared:"),
            "/shared is not shared"
        );
        ensure!(propagation_of("/top")?.is_empty(), "/top is not private");
        let t = statvfs("/t").map_err(|e| e.to_string())?;
        ensure!(
            t.flags().contains(FsFlags::ST_RDONLY | FsFlags::ST_NOEXEC),
            "/t flags"
        );
        ensure!(t.blocks() * t.fragment_size() == 1 << 20, "/t size");
        ensure!(fs_type("/sys/fs/cgroup")? == TMPFS_MAGIC, "/sys/fs/cgroup");
        ensure!(
            flags("/sys/fs/cgroup")?.contains(FsFlags::ST_RDONLY),
            "cgroup dir writable"
        );
        ensure!(
            fs_type("/dev/extra/deep")? == TMPFS_MAGIC,
            "/dev/extra/deep"
        );
        Ok(())
    });
}

/// A list without `/proc`, `/sys` and `/dev`: the container starts without them; Docker's
/// masked and read-only paths are not there to apply, and box mounts nothing of its own.
#[test]
fn a_list_without_proc_sys_and_dev_starts_bare() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = RootfsConfig {
        root: Root::Dir(tiny_root(tmp.path())),
        mounts: Vec::new(),
        ..Default::default()
    };
    box_rootfs::check(&cfg).unwrap();
    in_container(tmp.path(), || {
        setup(&cfg).map_err(|e| format!("setup: {e}"))?;
        for p in ["/proc", "/sys", "/dev"] {
            ensure!(!Path::new(p).exists(), "{p} exists");
        }
        ensure!(Path::new("/marker").exists(), "not in the root");
        Ok(())
    });
}

/// The image's own `/proc/kcore` (a file) with no `/dev` mounted: there is no box-made
/// `/dev/null` to mask it with, and box does not take one from the image. Refused.
#[test]
fn masking_a_file_needs_boxs_dev_null() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    fs::create_dir(root.join("proc")).unwrap();
    fs::write(root.join("proc/kcore"), b"secret").unwrap();
    let cfg = RootfsConfig {
        root: Root::Dir(root),
        mounts: Vec::new(),
        ..Default::default()
    };
    in_container(tmp.path(), || match setup(&cfg) {
        Err(Error::Invalid { path, reason }) if path == Path::new("/dev/null") => {
            ensure!(reason.contains("no /dev"), "{reason}");
            Ok(())
        }
        other => Err(format!("expected no /dev/null, got {other:?}")),
    });
}

/// Device nodes and the console file are made in a tmpfs at `/dev`; a list without one has
/// nowhere to make them.
#[test]
fn devices_and_console_without_a_dev_tmpfs_are_refused() {
    let cfg = RootfsConfig {
        mounts: vec![Mount::tmpfs("/proc-like", None, None)],
        console: true,
        ..Default::default()
    };
    assert!(matches!(
        box_rootfs::check(&cfg),
        Err(Error::Invalid { path, .. }) if path == Path::new("/dev")
    ));
}

/// A bind at `/dev` in place of box's tmpfs (an OCI bundle may ask for the host's `/dev`): it
/// is pinned like a fresh filesystem, masks take their `/dev/null` from it (checked to be the
/// null device), and it gets its options.
#[test]
fn a_bind_at_dev_is_pinned_and_lends_masks_its_null() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = RootfsConfig {
        root: Root::Dir(tiny_root(tmp.path())),
        ..Default::default()
    };
    cfg.mounts.retain(|m| !m.destination.starts_with("/dev"));
    cfg.mounts.push(parse(
        "/dev",
        None,
        Some(Path::new("/dev")),
        &["bind", "ro", "nosuid"],
    ));
    in_container(tmp.path(), || {
        setup(&cfg).map_err(|e| format!("setup: {e}"))?;
        let null = fs::metadata("/dev/null").map_err(|e| e.to_string())?;
        ensure!(
            std::os::unix::fs::FileTypeExt::is_char_device(&null.file_type()),
            "/dev/null"
        );
        let want = FsFlags::ST_RDONLY | FsFlags::ST_NOSUID;
        ensure!(flags("/dev")?.contains(want), "/dev: {:?}", flags("/dev")?);
        let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        ensure!(
            info.lines()
                .any(|l| l.contains(" /dev ") && l.contains(" - devtmpfs ")),
            "the host's /dev is not at /dev:\n{info}"
        );
        if let Ok(m) = fs::metadata("/proc/timer_list") {
            let data = fs::read("/proc/timer_list").map_err(|e| e.to_string())?;
            ensure!(
                std::os::unix::fs::FileTypeExt::is_char_device(&m.file_type()) && data.is_empty(),
                "/proc/timer_list not masked"
            );
        }
        Ok(())
    });
}
