//! The process's working directory made with the root: before `/` becomes read-only, inside
//! the root whatever links the root holds, 0755 and owned by root.

#[allow(dead_code)] // shared with setup.rs, which uses all of it
mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use box_rootfs::{setup_with_workdir, Error, Root, RootfsConfig};
use common::checks::{erofs, tiny_root};
use common::{in_container, is_readonly};

fn readonly_dir_root(root: &Path) -> RootfsConfig {
    RootfsConfig {
        root: Root::Dir(root.into()),
        readonly: true,
        ..Default::default()
    }
}

#[test]
fn a_missing_workdir_is_made_before_the_root_is_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    in_container(tmp.path(), || {
        let cfg = readonly_dir_root(&root);
        setup_with_workdir(&cfg, Some(Path::new("/not/there"))).map_err(|e| e.to_string())?;
        let made = fs::metadata("/not/there").map_err(|e| e.to_string())?;
        ensure!(made.is_dir(), "/not/there is not a directory");
        ensure!(made.mode() & 0o7777 == 0o755, "mode {:o}", made.mode());
        ensure!((made.uid(), made.gid()) == (0, 0), "owner {}", made.uid());
        ensure!(is_readonly("/")?, "/ is writable");
        erofs("/new-file")?;
        erofs("/not/there/new-file")
    });
    assert!(root.join("not/there").is_dir(), "made in the root's tree");
}

/// `/app` links out of the root (absolutely, and by `..`): the workdir below it is made in
/// the root, where the link leads when the root is `/`, never on the host.
#[test]
fn a_workdir_through_a_link_out_of_the_root_is_made_inside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    let host = tmp.path().join("host-marker");
    let climbs = "../".repeat(host.components().count() + 2);
    let relative = format!(
        "{climbs}{}",
        host.display().to_string().trim_start_matches('/')
    );
    symlink(&host, root.join("app")).unwrap();
    symlink(relative, root.join("rel")).unwrap();
    for link in ["/app", "/rel"] {
        in_container(tmp.path(), || {
            let wd = format!("{link}/sub");
            setup_with_workdir(&readonly_dir_root(&root), Some(Path::new(&wd)))
                .map_err(|e| e.to_string())?;
            ensure!(Path::new(&wd).is_dir(), "{wd} missing in the container");
            Ok(())
        });
        assert!(!host.exists(), "{link}: made on the host");
        assert!(root
            .join(host.strip_prefix("/").unwrap())
            .join("sub")
            .is_dir());
    }
}

#[test]
fn a_workdir_that_is_a_file_is_a_workdir_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tiny_root(tmp.path());
    in_container(tmp.path(), || {
        match setup_with_workdir(&readonly_dir_root(&root), Some(Path::new("/marker/x"))) {
            Err(Error::Workdir { path, source }) => {
                ensure!(path == Path::new("/marker/x"), "{path:?}");
                ensure!(
                    source.errno() == Some(nix::errno::Errno::ENOTDIR),
                    "{source}"
                );
                Ok(())
            }
            other => Err(format!("expected a workdir error, got {other:?}")),
        }
    });
}
