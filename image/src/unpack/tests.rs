//! Unpacking, attacked: every escape a hostile layer may try, each checked on the host
//! afterwards (the marker outside the layer must not appear, the file outside must keep its
//! content); then what a faithful unpack keeps.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::{unpack, UnpackError, UnpackOptions, UnpackStats};
use crate::testutil::{Kind, Tar};

struct Case {
    _dir: tempfile::TempDir,
    layer: std::path::PathBuf,
    outside: std::path::PathBuf,
    fd: OwnedFd,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("store/layer");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"host data").unwrap();
    let fd = nix::fcntl::open(&layer, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
    Case {
        _dir: dir,
        layer,
        outside,
        fd,
    }
}

impl Case {
    fn unpack(&self, tar: Tar) -> Result<UnpackStats, UnpackError> {
        unpack(
            &tar.finish()[..],
            self.fd.as_fd(),
            &UnpackOptions::default(),
        )
    }

    fn unpack_with(&self, tar: Tar, opts: UnpackOptions) -> Result<UnpackStats, UnpackError> {
        unpack(&tar.finish()[..], self.fd.as_fd(), &opts)
    }

    /// The host outside the layer is as it was: the secret intact, no marker.
    fn assert_outside_untouched(&self) {
        assert_eq!(
            std::fs::read(self.outside.join("secret")).unwrap(),
            b"host data"
        );
        let names: Vec<_> = std::fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"], "something was written outside the layer");
        let parent: Vec<_> = std::fs::read_dir(self.layer.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(parent, ["layer"], "something was written next to the layer");
    }

    fn outside_rel(&self) -> String {
        // From the layer (store/layer) to outside/: two levels up.
        "../../outside".into()
    }
}

fn refused(result: Result<UnpackStats, UnpackError>) -> String {
    match result {
        Err(e @ UnpackError::Refused { .. }) => e.to_string(),
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn dot_dot_paths_are_refused() {
    let c = case();
    let msg = refused(c.unpack(Tar::new().add("../outside/pwned", Kind::File(b"x"))));
    assert!(msg.contains("leads out of the layer"), "{msg}");
    refused(c.unpack(Tar::new().add("a/../../../outside/pwned", Kind::File(b"x"))));
    refused(c.unpack(Tar::new().add("a/b/..", Kind::Dir)));
    c.assert_outside_untouched();
}

#[test]
fn absolute_paths_stay_inside_the_layer() {
    let c = case();
    let abs = format!("{}/pwned", c.outside.display());
    c.unpack(Tar::new().add(&abs, Kind::File(b"x"))).unwrap();
    c.assert_outside_untouched();
    let inside = c.layer.join(abs.trim_start_matches('/'));
    assert_eq!(std::fs::read(inside).unwrap(), b"x");
}

#[test]
fn nothing_is_written_through_a_symlink() {
    let c = case();
    let abs = c.outside.display().to_string();
    // An absolute symlink, then a file through it.
    let msg = refused(
        c.unpack(
            Tar::new()
                .add("evil", Kind::Symlink(&abs))
                .add("evil/pwned", Kind::File(b"x")),
        ),
    );
    assert!(msg.contains("through a symlink"), "{msg}");
    // A relative one, a directory deeper.
    let rel = format!("../{}", c.outside_rel());
    refused(
        c.unpack(
            Tar::new()
                .add("d/rel", Kind::Symlink(&rel))
                .add("d/rel/pwned", Kind::File(b"x")),
        ),
    );
    // A directory entry through one, and a hard link through one.
    refused(
        c.unpack(
            Tar::new()
                .add("e", Kind::Symlink(&abs))
                .add("e/sub", Kind::Dir),
        ),
    );
    let err = c.unpack(
        Tar::new()
            .add("f", Kind::Symlink(&abs))
            .add("hl", Kind::HardLink("f/secret")),
    );
    assert!(
        matches!(
            err,
            Err(UnpackError::Fs {
                step: "open hard link target's directory",
                ..
            })
        ),
        "{err:?}"
    );
    c.assert_outside_untouched();
}

#[test]
fn a_later_entry_replaces_a_symlink_without_following_it() {
    let c = case();
    let secret = c.outside.join("secret").display().to_string();
    let abs = c.outside.display().to_string();
    c.unpack(
        Tar::new()
            .add("file", Kind::Symlink(&secret))
            .add("file", Kind::File(b"replaced"))
            .add("dir", Kind::Symlink(&abs))
            .add("dir", Kind::Dir)
            .add("dir/inside", Kind::File(b"y"))
            .add("node", Kind::Symlink(&secret))
            .add("node", Kind::Fifo),
    )
    .unwrap();
    c.assert_outside_untouched();
    assert_eq!(std::fs::read(c.layer.join("file")).unwrap(), b"replaced");
    assert!(c.layer.join("dir").symlink_metadata().unwrap().is_dir());
    assert_eq!(std::fs::read(c.layer.join("dir/inside")).unwrap(), b"y");
}

#[test]
fn hard_links_stay_inside_the_layer() {
    let c = case();
    refused(c.unpack(Tar::new().add("hl", Kind::HardLink("../../outside/secret"))));
    let secret = c.outside.join("secret").display().to_string();
    // An absolute target names a file of the layer, which does not exist.
    let err = c.unpack(Tar::new().add("hl", Kind::HardLink(&secret)));
    assert!(matches!(err, Err(UnpackError::Fs { .. })), "{err:?}");
    c.assert_outside_untouched();
}

#[test]
fn extension_headers_are_bounded() {
    let c = case();
    let mut tar = Tar::new();
    tar.add_with(
        "big",
        Kind::File(b"x"),
        0o644,
        (0, 0),
        &[("user.big", &vec![b'a'; 2 << 20])],
    );
    let msg = refused(c.unpack(tar));
    assert!(msg.contains("larger than 1 MiB"), "{msg}");
}

#[test]
fn a_plain_layer_unpacks() {
    let c = case();
    let stats = c
        .unpack(
            Tar::new()
                .add("./", Kind::Dir)
                .add("bin/", Kind::Dir)
                .add("bin/tool", Kind::File(b"#!/bin/sh\n"))
                .add("bin/alias", Kind::Symlink("tool"))
                .add("bin/hard", Kind::HardLink("bin/tool"))
                .add("deep/er/file", Kind::File(b"parents are made"))
                .add("fifo", Kind::Fifo)
                .add("null", Kind::Char(1, 3)),
        )
        .unwrap();
    assert_eq!(stats.skipped_devices, 1, "devices are skipped by default");
    assert!(!c.layer.join("null").exists());
    let tool = c.layer.join("bin/tool").metadata().unwrap();
    assert_eq!(
        c.layer.join("bin/hard").metadata().unwrap().ino(),
        tool.ino()
    );
    assert_eq!(
        std::fs::read_link(c.layer.join("bin/alias")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(tool.mtime(), 1_000_000_000);
    assert_eq!(
        std::fs::read(c.layer.join("deep/er/file")).unwrap(),
        b"parents are made"
    );
    assert_eq!(
        c.layer
            .join("deep")
            .metadata()
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o755
    );
    assert!(c
        .layer
        .join("fifo")
        .metadata()
        .unwrap()
        .file_type()
        .is_fifo_like());
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[test]
#[ignore = "needs root: ownership, devices, whiteouts (trusted xattrs); cargo xtask test runs it"]
fn owners_modes_xattrs_devices_and_whiteouts() {
    assert!(nix::unistd::geteuid().is_root(), "run as root");
    let c = case();
    let mut tar = Tar::new();
    tar.add_with("ro/", Kind::Dir, 0o555, (0, 0), &[]);
    tar.add_with(
        "ro/suid",
        Kind::File(b"x"),
        0o4755,
        (1000, 2000),
        &[
            ("user.note", b"kept"),
            ("trusted.overlay.redirect", b"/etc"),
            (
                "security.capability",
                b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            ),
        ],
    );
    tar.add_with("link", Kind::Symlink("ro/suid"), 0o777, (33, 33), &[]);
    tar.add_with("null", Kind::Char(1, 3), 0o666, (0, 0), &[]);
    // Files box's own ids and umask would already give are neither chowned nor chmodded:
    // the others must still end with exactly the tar's owner and mode.
    for (name, mode, owner) in [
        ("plain", 0o644, (0, 0)),
        ("open", 0o777, (0, 0)),
        ("sgid", 0o2755, (0, 0)),
        ("group", 0o640, (0, 5)),
    ] {
        tar.add_with(name, Kind::File(b"m"), mode, owner, &[]);
    }
    let tar = tar
        .add(".wh.gone", Kind::File(b""))
        .add("opq/.wh..wh..opq", Kind::File(b""))
        .add("opq/kept", Kind::File(b"k"))
        .add("same", Kind::File(b"this layer's"))
        .add(".wh.same", Kind::File(b""))
        .add(".wh..wh.plnk", Kind::File(b""))
        .add("re/.wh.x", Kind::File(b""))
        .add(".wh.re2", Kind::File(b""))
        .add("re2/new", Kind::File(b"n"));
    let stats = c.unpack_with(tar, UnpackOptions { devices: true }).unwrap();
    let suid = c.layer.join("ro/suid").metadata().unwrap();
    assert_eq!(
        (suid.uid(), suid.gid(), suid.mode() & 0o7777),
        (1000, 2000, 0o4755)
    );
    assert_eq!(
        c.layer.join("ro").metadata().unwrap().mode() & 0o7777,
        0o555
    );
    for (name, mode, gid) in [
        ("plain", 0o644, 0),
        ("open", 0o777, 0),
        ("sgid", 0o2755, 0),
        ("group", 0o640, 5),
    ] {
        let m = c.layer.join(name).metadata().unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (mode, 0, gid),
            "{name}"
        );
    }
    let xattr = |p: &str, k: &str| -> Option<Vec<u8>> {
        let fd = nix::fcntl::open(&c.layer.join(p), OFlag::O_RDONLY, Mode::empty()).unwrap();
        super::fs::get_xattr(fd.as_fd(), k).unwrap()
    };
    assert_eq!(xattr("ro/suid", "user.note").as_deref(), Some(&b"kept"[..]));
    assert!(
        xattr("ro/suid", "security.capability").is_some(),
        "file capabilities are kept"
    );
    assert_eq!(
        xattr("ro/suid", "trusted.overlay.redirect"),
        None,
        "overlay's own xattrs are dropped"
    );
    assert_eq!(stats.dropped_xattrs, 1);
    assert_eq!(c.layer.join("link").symlink_metadata().unwrap().uid(), 33);
    let null = c.layer.join("null").metadata().unwrap();
    assert_eq!(
        null.rdev(),
        nix::sys::stat::makedev(1, 3),
        "devices when allowed, as root"
    );
    let gone = c.layer.join("gone").symlink_metadata().unwrap();
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(&gone.file_type()) && gone.rdev() == 0,
        "a whiteout"
    );
    assert_eq!(
        xattr("opq", "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(
        std::fs::read(c.layer.join("opq/kept")).unwrap(),
        b"k",
        "an opaque directory keeps its own layer's entries"
    );
    assert_eq!(
        std::fs::read(c.layer.join("same")).unwrap(),
        b"this layer's",
        "a whiteout never hides its own layer"
    );
    assert!(!c.layer.join(".wh..wh.plnk").exists() && !c.layer.join(".wh.plnk").exists());
    assert!(c.layer.join("re").is_dir() && c.layer.join("re/x").symlink_metadata().is_ok());
    assert!(
        c.layer.join("re2").is_dir(),
        "an entry under a whited-out name makes a directory"
    );
    assert_eq!(
        xattr("re2", "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..]),
        "which hides the lower one"
    );
    c.assert_outside_untouched();
}
