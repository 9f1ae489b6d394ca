//! Roots that try to make box mount or write where it must not: the host's
//! own `/` as the root, and `/proc`, `/sys`, `/dev` that are not directories.

#[allow(dead_code)] // shared with setup.rs, which uses all of it
mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use box_rootfs::{check, setup, Error, Root, RootfsConfig};
use common::checks::tiny_root;
use common::in_container;

fn dir_root(root: &Path) -> RootfsConfig {
    RootfsConfig {
        root: Root::Dir(root.into()),
        ..Default::default()
    }
}

/// What is put at `/proc`, `/sys` or `/dev` in the root.
#[derive(Clone, Copy, Debug)]
enum Impostor {
    LinkToHostRoot,
    LinkInsideRoot,
    File,
}

impl Impostor {
    fn plant(self, at: &Path) {
        let _ = fs::remove_dir(at);
        match self {
            Impostor::LinkToHostRoot => symlink("/", at).unwrap(),
            Impostor::LinkInsideRoot => symlink("etc", at).unwrap(),
            Impostor::File => fs::write(at, b"not a directory").unwrap(),
        }
    }

    fn found(self) -> &'static str {
        match self {
            Impostor::LinkToHostRoot => "a symlink (to /)",
            Impostor::LinkInsideRoot => "a symlink (to etc)",
            Impostor::File => "a regular file",
        }
    }

    fn is_still_there(self, at: &Path) -> bool {
        let meta = fs::symlink_metadata(at).unwrap();
        match self {
            Impostor::File => meta.is_file(),
            _ => meta.file_type().is_symlink(),
        }
    }
}

#[test]
fn proc_sys_and_dev_must_be_directories() {
    for name in ["proc", "sys", "dev"] {
        for impostor in [
            Impostor::LinkToHostRoot,
            Impostor::LinkInsideRoot,
            Impostor::File,
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let root = tiny_root(tmp.path());
            fs::create_dir(root.join("etc")).unwrap();
            let at = root.join(name);
            impostor.plant(&at);
            let cfg = dir_root(&root);
            let shown = PathBuf::from("/").join(name);
            in_container(tmp.path(), || match setup(&cfg) {
                Err(Error::NotADirectory { path, found })
                    if path == shown && found == impostor.found() =>
                {
                    Ok(())
                }
                other => Err(format!("/{name} as {impostor:?}: {other:?}")),
            });
            // Left as it was; nothing was created or mounted through it (the
            // harness checked the host's mount table).
            assert!(impostor.is_still_there(&at), "/{name} {impostor:?} changed");
            assert_eq!(fs::read_dir(root.join("etc")).unwrap().count(), 0);
        }
    }
}

#[test]
fn the_hosts_root_is_refused_however_it_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("link");
    symlink("/", &link).unwrap();
    let bind = tmp.path().join("bind");
    fs::create_dir(&bind).unwrap();
    for root in [Path::new("/"), &link] {
        match check(&dir_root(root)) {
            Err(Error::HostRoot { path }) => assert_eq!(path, root),
            other => panic!("{}: {other:?}", root.display()),
        }
    }
    let msg = check(&dir_root(&link)).unwrap_err().to_string();
    assert!(msg.contains("rootfs = \"host\""), "{msg}");
    in_container(tmp.path(), || {
        // A bind mount of `/` (in this child's mount namespace only).
        let flags = nix::mount::MsFlags::MS_BIND;
        nix::mount::mount(Some("/"), &bind, None::<&str>, flags, None::<&str>)
            .map_err(|e| format!("bind /: {e}"))?;
        for root in [Path::new("/"), &link, &bind] {
            let cfg = dir_root(root);
            if !matches!(check(&cfg), Err(Error::HostRoot { .. })) {
                return Err(format!("check accepted {}", root.display()));
            }
            // setup refuses it too, before anything is mounted.
            match setup(&cfg) {
                Err(Error::HostRoot { .. }) => {}
                other => return Err(format!("setup of {}: {other:?}", root.display())),
            }
        }
        Ok(())
    });
}

/// A user mount exactly at `/dev` replaces box's on purpose: the check after the pivot that
/// `/dev` is still box's mount leaves it alone, and masks still get box's `/dev/null`.
#[test]
fn a_user_mount_over_dev_is_not_taken_for_a_swap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = RootfsConfig::default();
    cfg.mounts
        .push(box_rootfs::Mount::tmpfs("/dev", None, Some(0o700)));
    in_container(tmp.path(), || {
        setup(&cfg).map_err(|e| format!("setup: {e}"))?;
        let mode = fs::metadata("/dev").map_err(|e| e.to_string())?;
        if std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o7777 != 0o700 {
            return Err("/dev is not the user's tmpfs".into());
        }
        if Path::new("/dev/null").exists() {
            return Err("box's /dev shows through".into());
        }
        let keys = fs::metadata("/proc/keys").map_err(|e| format!("/proc/keys: {e}"))?;
        if !std::os::unix::fs::FileTypeExt::is_char_device(&keys.file_type()) {
            return Err("/proc/keys is not masked".into());
        }
        Ok(())
    });
}
