//! Images end to end: `box pull` from a registry the test starts (Debian's docker-registry on
//! 127.0.0.1) of images the test writes and pushes, `box images`, `box rmi`, `box load`,
//! `box prune`; hostile and corrupt images, each checked on the host afterwards.

#[path = "images/support.rs"]
mod support;

use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::{ok, stderr, stdout};
use support::{busybox_layer, Env};

/// A three-layer image: a busybox root (gzip), a layer that deletes, adds and makes a
/// directory opaque (zstd), and one that overwrites a file (uncompressed).
fn multi_layer(env: &Env) -> (Image, Vec<Vec<u8>>) {
    let base = Tar::new()
        .tree(&busybox_layer(env))
        .dir("opt/")
        .dir("opt/old/")
        .file("opt/old/a", b"a")
        .file("opt/old/b", b"b")
        .finish();
    let middle = Tar::new()
        .file("etc/.wh.marker", b"")
        .file("etc/added", b"middle")
        .file("opt/old/.wh..wh..opq", b"")
        .file("opt/old/new", b"new")
        .finish();
    let top = Tar::new().file("etc/added", b"top").finish();
    let tars = vec![base.clone(), middle.clone(), top.clone()];
    let layers = [
        Layer::new(base, Compression::Gzip),
        Layer::new(middle, Compression::Zstd),
        Layer::new(top, Compression::None),
    ];
    let run = serde_json::json!({"Cmd": ["/bin/sh", "-c", "cat /etc/added"], "Env": ["PATH=/bin"]});
    (Image::build(&layers, run, host_arch(), false), tars)
}

#[test]
fn a_multi_layer_image_is_pulled_and_its_whiteouts_hide_lower_files() {
    let env = Env::new();
    let (image, tars) = multi_layer(&env);
    let digest = env.registry.push("busybox", "multi", &image);
    let reference = format!("{}/busybox:multi", env.registry.host());
    let out = env.run(&["pull", &reference]);
    assert_eq!(ok(&out), format!("{reference}\n"));
    assert_eq!(
        stderr(&out),
        "",
        "no progress when stderr is not a terminal"
    );
    let rows = env.images();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["Repository"],
        format!("{}/busybox", env.registry.host())
    );
    assert_eq!(rows[0]["Tag"], "multi");
    assert_eq!(rows[0]["Digest"], digest);
    // The layers, stacked as the overlay root of a container will stack them, show what the
    // image spec says: the whiteout hides /etc/marker, the opaque directory hides a and b.
    let merged = env.overlay_view(&tars, "cat /etc/added; echo; ls /etc; echo --; ls /opt/old");
    assert!(merged.starts_with("top\n"), "{merged}");
    let (etc, opt) = merged.split_once("--\n").unwrap();
    assert!(
        etc.contains("added") && etc.contains("passwd") && !etc.contains("marker"),
        "{etc}"
    );
    assert_eq!(opt, "new\n");
    let again = env.run(&["pull", &reference]);
    assert_eq!(
        ok(&again),
        format!("{reference}\n"),
        "a second pull finds every layer"
    );
    env.assert_no_leftovers();
}

#[test]
fn a_manifest_list_gives_this_hosts_architecture() {
    let env = Env::new();
    let other = if host_arch() == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    let image_for = |arch: &str| {
        let tar = Tar::new().file("etc/arch", arch.as_bytes()).finish();
        Image::build(
            &[Layer::new(tar, Compression::Gzip)],
            serde_json::json!({"Cmd": ["/bin/true"]}),
            arch,
            true,
        )
    };
    let (ours, theirs) = (image_for(host_arch()), image_for(other));
    let platform_ours = format!("linux/{}", host_arch());
    let platform_theirs = format!("linux/{other}");
    let index = env.registry.push_index(
        "multiarch",
        "1",
        &[(&theirs, &platform_theirs), (&ours, &platform_ours)],
        true,
    );
    let reference = format!("{}/multiarch:1", env.registry.host());
    ok(&env.run(&["pull", &reference]));
    let rows = env.images();
    assert_eq!(rows[0]["Digest"], index, "the name's digest is the list's");
    assert_eq!(env.layer_file(&ours, "etc/arch"), host_arch());
    ok(&env.run(&["pull", "--platform", &platform_theirs, &reference]));
    assert_eq!(env.layer_file(&theirs, "etc/arch"), other);
    let out = env.run(&["pull", "--platform", "linux/s390x", &reference]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no image for linux/s390x") && err.contains(&platform_ours),
        "{err}"
    );
}

#[test]
fn layers_that_try_to_escape_are_refused_and_the_host_is_untouched() {
    let env = Env::new();
    let outside = tempfile::Builder::new()
        .prefix("boxtest-outside-")
        .tempdir()
        .unwrap();
    let out_dir = outside.path().display().to_string();
    let marker = format!("/tmp/boxtest-escape-{}", std::process::id());
    let attacks = [
        (
            "dotdot",
            Tar::new().file(&format!("../../../../../../../..{marker}"), b"x"),
            "leads out of the layer",
        ),
        (
            "abslink",
            Tar::new()
                .symlink("etc/evil", &out_dir)
                .file("etc/evil/pwned", b"x"),
            "through a symlink",
        ),
        (
            "rellink",
            Tar::new()
                .dir("a/")
                .symlink("a/up", &format!("../../../../../../../..{out_dir}"))
                .file("a/up/pwned", b"x"),
            "through a symlink",
        ),
        (
            "hardlink",
            Tar::new().hardlink("passwd", "../../../../../../../../etc/passwd"),
            "leads out of the layer",
        ),
    ];
    for (name, tar, reason) in attacks {
        let image = Image::build(
            &[Layer::new(tar.finish(), Compression::Gzip)],
            serde_json::json!({}),
            host_arch(),
            false,
        );
        env.registry.push(name, "1", &image);
        let out = env.run(&["pull", &format!("{}/{name}:1", env.registry.host())]);
        assert!(!out.status.success(), "{name} was pulled");
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
    }
    // An absolute name stays inside the layer.
    let abs = Tar::new().file(&marker, b"inside").finish();
    let image = Image::build(
        &[Layer::new(abs, Compression::Gzip)],
        serde_json::json!({}),
        host_arch(),
        false,
    );
    env.registry.push("absolute", "1", &image);
    ok(&env.run(&["pull", &format!("{}/absolute:1", env.registry.host())]));
    assert_eq!(
        env.layer_file(&image, marker.trim_start_matches('/')),
        "inside"
    );
    assert!(
        !std::path::Path::new(&marker).exists(),
        "{marker} was written on the host"
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "a file was written through a link"
    );
    assert_eq!(env.images().len(), 1, "only the harmless image is recorded");
    env.assert_no_leftovers();
}

#[test]
fn a_corrupt_or_truncated_blob_is_refused_and_removed() {
    let env = Env::new();
    for (i, damage) in ["corrupt", "truncate"].iter().enumerate() {
        let tar = Tar::new()
            .file(
                "data",
                format!("unique content {i} ").repeat(5000).as_bytes(),
            )
            .finish();
        let image = Image::build(
            &[Layer::new(tar, Compression::Gzip)],
            serde_json::json!({}),
            host_arch(),
            false,
        );
        let repo = format!("damaged{i}");
        env.registry.push(&repo, "1", &image);
        let blob = env
            .registry
            .blob_file(&box_tests::oci::sha256(&image.layers[0]));
        let mut bytes = std::fs::read(&blob).unwrap();
        match *damage {
            "corrupt" => {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x55;
            }
            _ => bytes.truncate(bytes.len() / 2),
        }
        std::fs::write(&blob, &bytes).unwrap();
        let out = env.run(&["pull", &format!("{}/{repo}:1", env.registry.host())]);
        assert!(!out.status.success(), "a {damage}ed blob was accepted");
        assert!(
            stderr(&out).contains(&box_tests::oci::sha256(&image.layers[0])),
            "{}",
            stderr(&out)
        );
        assert!(!env.store_has_blob(&box_tests::oci::sha256(&image.layers[0])));
    }
    assert!(env.images().is_empty());
    env.assert_no_leftovers();
}

#[test]
fn rmi_is_refused_while_a_container_uses_the_image() {
    let env = Env::new();
    let (image, _) = multi_layer(&env);
    let digest = env.registry.push("busybox", "used", &image);
    let reference = format!("{}/busybox:used", env.registry.host());
    ok(&env.run(&["pull", &reference]));
    // A container's record naming the image, as `box up` writes it.
    env.fake_container(
        "c1",
        &format!("{}/busybox:used", env.registry.host()),
        &image.digest(),
    );
    let out = env.run(&["rmi", &reference]);
    assert!(!out.status.success());
    insta::assert_snapshot!(stderr(&out).replace(&env.registry.host(), "HOST"), @"box: image HOST/busybox:used is used by container c1; remove the container first");
    assert_eq!(env.images().len(), 1);
    env.remove_fake_container("c1");
    let out = ok(&env.run(&["rmi", &reference]));
    assert!(
        out.starts_with(&format!("Untagged: {reference}\nDeleted: sha256:")),
        "{out}"
    );
    assert!(env.images().is_empty());
    assert_eq!(env.store_entries("layers"), 0, "its layers went with it");
    assert_eq!(ok(&env.run(&["prune"])), "Nothing to remove\n");
    let _ = digest;
}

#[test]
fn two_pulls_of_one_image_at_once_unpack_each_layer_once() {
    let env = Env::new();
    let (image, tars) = multi_layer(&env);
    env.registry.push("busybox", "twice", &image);
    let reference = format!("{}/busybox:twice", env.registry.host());
    let a = env.command(&["pull", &reference]).spawn().unwrap();
    let b = env.command(&["pull", &reference]).spawn().unwrap();
    for child in [a, b] {
        ok(&child.wait_with_output().unwrap());
    }
    assert_eq!(env.images().len(), 1);
    assert_eq!(env.store_entries("layers"), tars.len());
    env.assert_no_leftovers();
}

#[test]
fn pull_by_digest_records_no_tag() {
    let env = Env::new();
    let tar = Tar::new().file("etc/hostname", b"x").finish();
    let image = Image::build(
        &[Layer::new(tar, Compression::Gzip)],
        serde_json::json!({}),
        host_arch(),
        false,
    );
    let digest = env.registry.push("bydigest", "1", &image);
    let reference = format!("{}/bydigest@{digest}", env.registry.host());
    assert_eq!(
        ok(&env.run(&["pull", &reference])),
        format!("{reference}\n")
    );
    let rows = env.images();
    assert_eq!(
        (rows[0]["Tag"].as_str(), rows[0]["Digest"].as_str()),
        (Some("<none>"), Some(digest.as_str()))
    );
    let out = env.run(&["pull", &format!("{}/missing:1", env.registry.host())]);
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn images_saved_by_skopeo_load() {
    let env = Env::new();
    // Docker's archive has no zstd layers: gzip and plain ones, in a Docker manifest.
    let layers = [
        Layer::new(
            Tar::new().tree(&busybox_layer(&env)).finish(),
            Compression::Gzip,
        ),
        Layer::new(
            Tar::new().file("etc/.wh.marker", b"").finish(),
            Compression::Gzip,
        ),
        Layer::new(
            Tar::new().file("etc/added", b"top").finish(),
            Compression::None,
        ),
    ];
    let image = Image::build(
        &layers,
        serde_json::json!({"Cmd": ["/bin/sh"]}),
        host_arch(),
        true,
    );
    env.registry.push("busybox", "saved", &image);
    let source = format!("docker://{}/busybox:saved", env.registry.host());
    let dir = tempfile::tempdir().unwrap();
    let docker_archive = dir.path().join("docker.tar");
    let oci_archive = dir.path().join("oci.tar");
    let oci_dir = dir.path().join("oci");
    for dest in [
        format!(
            "docker-archive:{}:localhost/saved:1",
            docker_archive.display()
        ),
        format!("oci-archive:{}:v1", oci_archive.display()),
        format!("oci:{}:v1", oci_dir.display()),
    ] {
        env.skopeo(&["copy", "--src-tls-verify=false", &source, &dest]);
    }
    let out = ok(&env.run(&["load", docker_archive.to_str().unwrap()]));
    assert_eq!(out, "Loaded image: localhost/saved:1\n");
    for archive in [&oci_archive, &oci_dir] {
        let out = ok(&env.run(&["load", archive.to_str().unwrap()]));
        assert!(
            out.starts_with("Loaded image ID: sha256:"),
            "skopeo's bare tag names nothing: {out}"
        );
    }
    let rows = env.images();
    assert!(
        rows.iter()
            .any(|r| r["Repository"] == "localhost/saved" && r["Tag"] == "1"),
        "{rows:?}"
    );
    // The same layers, whatever the archive: unpacked once.
    assert_eq!(env.store_entries("layers"), 3);
    let pruned = ok(&env.run(&["prune"]));
    assert!(
        pruned.contains("Deleted: sha256:"),
        "the unnamed images go: {pruned}"
    );
    env.assert_no_leftovers();
}

#[test]
fn a_missing_file_or_a_stranger_is_no_archive() {
    let env = Env::new();
    let out = env.run(&["load", "/nonexistent/archive.tar"]);
    assert!(!out.status.success());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.tar"),
        Tar::new().file("hello", b"x").finish(),
    )
    .unwrap();
    let out = env.run(&["load", dir.path().join("x.tar").to_str().unwrap()]);
    assert!(
        stderr(&out).contains("neither an OCI image layout"),
        "{}",
        stderr(&out)
    );
    let _ = stdout(&out);
}
