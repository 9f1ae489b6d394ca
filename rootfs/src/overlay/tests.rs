use super::*;

fn overlay(layers: &[&str]) -> Overlay {
    Overlay {
        layers: layers.iter().map(PathBuf::from).collect(),
        dir: "/run/box/c/overlay".into(),
    }
}

#[test]
fn paths_overlayfs_would_misread_are_refused() {
    assert!(check(&overlay(&["/l/1", "/l/2"]), false).is_ok());
    for bad in ["/l:1", "/l,1", "/l\\1", "relative"] {
        let err = check(&overlay(&["/l/0", bad]), false).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err}");
    }
    assert!(check(&overlay(&[]), false).is_err(), "no layer");
    let many: Vec<String> = (0..=MAX_LAYERS).map(|i| format!("/l/{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert!(
        check(&overlay(&many), false).is_err(),
        "more than overlayfs stacks"
    );
}

#[test]
fn missing_layers_are_named() {
    let err = check(&overlay(&["/nonexistent-box-layer"]), true).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent-box-layer") && err.errno() == Some(Errno::ENOENT),
        "{err}"
    );
}

#[test]
fn classic_options_list_layers_top_first_within_a_page() {
    let data = classic_options(&overlay(&["/l/bottom", "/l/top"])).unwrap();
    assert_eq!(
        data,
        "lowerdir=/l/top:/l/bottom,upperdir=/run/box/c/overlay/upper,\
         workdir=/run/box/c/overlay/work,index=off"
    );
    let long: Vec<String> = (0..60)
        .map(|i| format!("/var/lib/box/layers/{i:064}/diff"))
        .collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    match classic_options(&overlay(&long)) {
        Err(Error::OverlayOptions { layers: 60, bytes }) => assert!(bytes >= PAGE),
        other => panic!("{other:?}"),
    }
}

#[test]
fn dirs_are_made_fresh_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Overlay {
        layers: vec![tmp.path().into()],
        dir: tmp.path().join("overlay"),
    };
    std::fs::create_dir_all(o.upper().join("old")).unwrap();
    std::os::unix::fs::symlink(tmp.path(), o.dir.join("escape")).unwrap();
    std::fs::write(tmp.path().join("keep"), b"k").unwrap();
    let dirs = OverlayDirs::create(&o).unwrap();
    assert!(
        !o.upper().join("old").exists(),
        "an earlier container's writes are gone"
    );
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode(o.upper()), mode(o.work()), mode(o.dir.clone())),
        (0o755, 0o700, 0o700)
    );
    std::os::unix::fs::symlink(tmp.path(), o.upper().join("link")).unwrap();
    dirs.remove().unwrap();
    assert!(!o.dir.exists());
    assert!(tmp.path().join("keep").exists(), "no symlink is followed");
}

/// What a container that wrote nothing leaves (overlayfs's empty `work/work`, the mount
/// points the child made in `upper`), and trees with a symlink where a directory was: all
/// removed, nothing followed.
#[test]
fn empty_dirs_are_removed_and_a_symlink_in_them_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    std::fs::create_dir(&target).unwrap();
    std::fs::create_dir(target.join("inside")).unwrap();
    for case in [
        "empty",
        "mount points",
        "work link",
        "upper link",
        "upper file",
    ] {
        let o = Overlay {
            layers: vec![tmp.path().into()],
            dir: tmp.path().join("overlay"),
        };
        let dirs = OverlayDirs::create(&o).unwrap();
        if case == "work link" {
            std::os::unix::fs::symlink(&target, o.work().join("work")).unwrap();
        } else {
            std::fs::create_dir(o.work().join("work")).unwrap();
        }
        if case != "empty" {
            for d in ["proc", "sys", "dev"] {
                std::fs::create_dir(o.upper().join(d)).unwrap();
            }
        }
        if case == "upper link" {
            std::os::unix::fs::symlink(&target, o.upper().join("link")).unwrap();
        }
        if case == "upper file" {
            std::fs::write(o.upper().join("dev").join("file"), b"x").unwrap();
        }
        dirs.remove().unwrap();
        assert!(!o.dir.exists(), "{case}");
        assert!(target.join("inside").is_dir(), "{case}");
    }
}

/// The overlay as each kernel gets it: `lowerdir+` through the new mount API, and `mount(2)`
/// with one option string where that API is missing.
#[test]
fn mounted_through_either_api() {
    use crate::testutil::{in_mount_ns, pretend_old_kernel};
    for old in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let (bottom, top) = (tmp.path().join("bottom"), tmp.path().join("top"));
        for (dir, files) in [
            (&bottom, &[("a", "bottom"), ("b", "bottom")][..]),
            (&top, &[("b", "top")][..]),
        ] {
            std::fs::create_dir(dir).unwrap();
            for (name, text) in files {
                std::fs::write(dir.join(name), text).unwrap();
            }
        }
        let o = Overlay {
            layers: vec![bottom.clone(), top.clone()],
            dir: tmp.path().join("overlay"),
        };
        let dirs = OverlayDirs::create(&o).unwrap();
        let view = tmp.path().join("view");
        std::fs::create_dir(&view).unwrap();
        in_mount_ns(|| {
            if old {
                pretend_old_kernel();
            }
            let seen = match mount(&o).map_err(|e| e.to_string())? {
                Made::Detached(fd) if !old => {
                    let at = sys::open_path("open", &view).map_err(|e| e.to_string())?;
                    mountapi::attach(fd.as_fd(), at.as_fd()).map_err(|e| format!("{e:?}"))?;
                    view.clone()
                }
                Made::MountedAt(_) if old => o.merged(),
                _ => return Err(format!("the wrong API for old = {old}")),
            };
            let read = |n: &str| std::fs::read_to_string(seen.join(n)).map_err(|e| e.to_string());
            if (read("a")?, read("b")?) != ("bottom".into(), "top".into()) {
                return Err("the layers are not stacked top over bottom".into());
            }
            std::fs::write(seen.join("b"), "written").map_err(|e| e.to_string())
        });
        assert_eq!(
            std::fs::read_to_string(o.upper().join("b")).unwrap(),
            "written"
        );
        assert_eq!(std::fs::read_to_string(top.join("b")).unwrap(), "top");
        dirs.remove().unwrap();
    }
}
