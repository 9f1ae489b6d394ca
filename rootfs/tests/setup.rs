//! Root tests: build real container roots in throwaway namespaces.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use box_rootfs::{bind_console, setup, Error, Mount, Propagation, Root, RootfsConfig};
use common::checks::{common_checks, erofs, run, sh_ok, tiny_root};
use common::{fs_type, in_container, in_user_container, is_readonly};
use nix::sys::statfs::TMPFS_MAGIC;

#[test]
fn host_root() {
    let tmp = tempfile::tempdir().unwrap();
    let private = format!("/tmp/box-rootfs-private-{}", std::process::id());
    in_container(tmp.path(), || {
        run(&RootfsConfig::default())?;
        common_checks()?;
        ensure!(is_readonly("/usr")?, "/usr writable");
        erofs("/usr/box-rootfs-test")?;
        erofs("/etc/box-rootfs-test")?;
        ensure!(
            fs::read_to_string("/etc/passwd").is_ok(),
            "/etc/passwd unreadable"
        );
        fs::write(&private, b"ok").map_err(|e| format!("write {private}: {e}"))?;
        ensure!(fs_type("/tmp")? == TMPFS_MAGIC, "/tmp not a private tmpfs");
        ensure!(
            fs::metadata("/tmp")
                .map(|m| m.permissions().mode() & 0o7777)
                .ok()
                == Some(0o1777),
            "/tmp mode"
        );
        ensure!(
            fs::metadata("/root")
                .map(|m| m.permissions().mode() & 0o7777)
                .ok()
                == Some(0o700),
            "/root mode"
        );
        ensure!(
            !Path::new("/dev/console").exists(),
            "/dev/console without console"
        );
        sh_ok(&["/bin/sh", "-c", "test -x /usr/bin/env && echo hi > /tmp/y"])?;
        Ok(())
    });
    assert!(
        !Path::new(&private).exists(),
        "container /tmp is the host's"
    );
}

#[test]
fn user_namespace_fallbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    let mut cfg = RootfsConfig {
        root: Root::Dir(root),
        readonly: true,
        ..Default::default()
    };
    cfg.mounts.push(Mount::bind("/usr", "/usr", true));
    in_user_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        // Host's nodes bound in (mknod is not allowed here), no mqueue
        // (the IPC namespace belongs to the host's user namespace).
        ensure!(
            fs::read_to_string("/proc/self/mountinfo")
                .map_err(|e| e.to_string())?
                .contains(" /dev/null "),
            "/dev/null not a bind"
        );
        ensure!(
            !Path::new("/dev/mqueue").exists(),
            "/dev/mqueue without an owned IPC namespace"
        );
        erofs("/usr/box-rootfs-test")?;
        erofs("/newfile")?;
        Ok(())
    });
    let tmp = tempfile::tempdir().unwrap();
    in_user_container(tmp.path(), || {
        run(&RootfsConfig::default())?;
        common_checks()?;
        erofs("/usr/box-rootfs-test")?;
        sh_ok(&["/bin/sh", "-c", "true"])
    });
}

#[test]
fn host_root_keeps_merged_usr_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let host_bin = fs::read_link("/bin").ok();
    in_container(tmp.path(), || {
        let cfg = RootfsConfig {
            propagation: Propagation::Slave,
            ..Default::default()
        };
        run(&cfg)?;
        ensure!(
            fs::read_link("/bin").ok() == host_bin,
            "/bin differs from the host's"
        );
        ensure!(Path::new("/bin/sh").exists(), "/bin/sh missing");
        Ok(())
    });
}

#[test]
fn dir_root_with_user_mounts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("hello"), b"from host").unwrap();
    let file = tmp.path().join("file.txt");
    fs::write(&file, b"single file").unwrap();
    let mut cfg = RootfsConfig {
        root: Root::Dir(root.clone()),
        readonly: true,
        console: true,
        ..Default::default()
    };
    cfg.mounts.extend([
        Mount::bind(data.clone(), "/data", true),
        Mount::bind(file, "/etc/file.txt", false),
        Mount::tmpfs("/scratch", Some(1 << 20), Some(0o700)),
        Mount::bind(data, "/data2", false),
    ]);
    in_container(tmp.path(), || {
        run(&cfg)?;
        common_checks()?;
        ensure!(
            fs::read("/marker").ok().as_deref() == Some(&b"inside"[..]),
            "/marker"
        );
        ensure!(
            !Path::new("/usr").exists() && !Path::new("/etc/passwd").exists(),
            "host files visible"
        );
        ensure!(
            fs::read("/data/hello").ok().as_deref() == Some(&b"from host"[..]),
            "/data/hello"
        );
        erofs("/data/new")?;
        fs::write("/data2/new", b"rw").map_err(|e| format!("write /data2: {e}"))?;
        ensure!(
            fs::read("/etc/file.txt").ok().as_deref() == Some(&b"single file"[..]),
            "/etc/file.txt"
        );
        let sv = nix::sys::statvfs::statvfs("/scratch").map_err(|e| e.to_string())?;
        ensure!(sv.blocks() * sv.fragment_size() == 1 << 20, "/scratch size");
        ensure!(
            fs::metadata("/scratch")
                .map(|m| m.permissions().mode() & 0o7777)
                .ok()
                == Some(0o700),
            "/scratch mode"
        );
        fs::write("/scratch/f", b"w").map_err(|e| format!("write /scratch: {e}"))?;
        erofs("/newfile")?; // readonly root
        ensure!(
            fs::metadata("/dev/console")
                .map(|m| m.is_file() && m.len() == 0)
                .unwrap_or(false),
            "/dev/console"
        );
        sh_ok(&[
            "/bin/busybox",
            "sh",
            "-c",
            "[ \"$(cat /marker)\" = inside ]",
        ])?;
        Ok(())
    });
    assert_eq!(fs::read(tmp.path().join("data/new")).unwrap(), b"rw");
    assert!(!tmp
        .path()
        .join("data/hello")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn symlinks_in_the_root_cannot_reach_the_host() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    std::os::unix::fs::symlink("/", root.join("evil")).unwrap();
    std::os::unix::fs::symlink("../../../../..", root.join("up")).unwrap();
    std::os::unix::fs::symlink("/../../../etc", root.join("cfg")).unwrap();
    let a = format!("box-rootfs-escape-a-{}", std::process::id());
    let b = format!("box-rootfs-escape-b-{}", std::process::id());
    let c = format!("box-rootfs-escape-c-{}", std::process::id());
    for n in [&a, &b] {
        assert!(!Path::new("/").join(n).exists(), "stale /{n} on the host");
    }
    assert!(!Path::new("/etc").join(&c).exists());
    let mut cfg = RootfsConfig {
        root: Root::Dir(root.clone()),
        ..Default::default()
    };
    cfg.mounts.extend([
        Mount::tmpfs(format!("/evil/{a}"), None, None),
        Mount::bind(tmp.path(), format!("/up/{b}"), true),
        Mount::tmpfs(format!("/cfg/{c}"), None, None),
    ]);
    in_container(tmp.path(), || {
        run(&cfg)?;
        ensure!(
            fs_type(&format!("/{a}"))? == TMPFS_MAGIC,
            "/{a} not mounted inside the root"
        );
        ensure!(
            Path::new(&format!("/{b}/root/marker")).exists(),
            "/{b} not mounted inside the root"
        );
        ensure!(
            fs_type(&format!("/etc/{c}"))? == TMPFS_MAGIC,
            "/etc/{c} not mounted"
        );
        Ok(())
    });
    for n in [&a, &b] {
        assert!(
            !Path::new("/").join(n).exists(),
            "mount point /{n} created on the host"
        );
        assert!(
            root.join(n).is_dir(),
            "mount point not created inside the root"
        );
    }
    assert!(
        !Path::new("/etc").join(&c).exists(),
        "created /etc/{c} on the host"
    );
    assert!(
        root.join("etc").join(&c).is_dir(),
        "/cfg/{c} not created at <root>/etc/{c}"
    );
}

#[test]
fn console_binds_a_pty_of_the_new_devpts() {
    let tmp = tempfile::tempdir().unwrap();
    in_container(tmp.path(), || {
        run(&RootfsConfig {
            console: true,
            ..Default::default()
        })?;
        let pty = nix::pty::openpty(None, None).map_err(|e| format!("openpty: {e}"))?;
        let slave = fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&pty.slave)
        ))
        .map_err(|e| e.to_string())?;
        ensure!(
            slave == Path::new("/dev/pts/0"),
            "first pty of a fresh devpts is {}",
            slave.display()
        );
        bind_console(&slave).map_err(|e| e.to_string())?;
        let con = fs::metadata("/dev/console").map_err(|e| e.to_string())?;
        let pts = fs::metadata(&slave).map_err(|e| e.to_string())?;
        ensure!(
            con.file_type().is_char_device() && con.rdev() == pts.rdev(),
            "console is not the pty"
        );
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/console")
            .and_then(|mut f| f.write_all(b"x"))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
}

#[test]
fn missing_bind_source_is_reported_before_anything_is_mounted() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let mut cfg = RootfsConfig::default();
    cfg.mounts.push(Mount::bind(missing.clone(), "/x", false));
    assert!(box_rootfs::check(&cfg).is_err());
    in_container(tmp.path(), || {
        match setup(&cfg) {
            Err(e @ Error::HostPath { .. }) => {
                ensure!(e.errno() == Some(nix::errno::Errno::ENOENT), "{e}");
                ensure!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
            }
            other => return Err(format!("expected HostPath error, got {other:?}")),
        }
        // Only the propagation changed: still the host's root.
        ensure!(
            Path::new("/work").exists() || Path::new("/usr").exists(),
            "root changed"
        );
        Ok(())
    });
}
