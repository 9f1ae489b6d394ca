//! An image's WorkingDir that the image lacks: made before the root becomes read-only (as
//! Docker makes it), root-owned 0755, in the container's upper directory; one that goes
//! through a link out of the root is made inside the root, never on the host.

#[allow(dead_code)] // shared with images_run.rs
#[path = "images/run_support.rs"]
mod run_support;
#[allow(dead_code)] // shared with images.rs, which uses all of it
#[path = "images/support.rs"]
mod support;

use std::path::Path;

use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::{ok, unique_name};
use run_support::*;
use support::{busybox_layer, Env};

/// The working directory, its mode and owner, the root mount's `ro`/`rw` as mountinfo says,
/// and whether `/` takes a new file.
const PROBE: &str = "pwd; ls -ldn . | { read mode links uid gid rest; echo $mode $uid $gid; }; \
    while read id parent dev root point options rest; do \
    [ \"$point\" = / ] && echo ${options%%,*}; done < /proc/self/mountinfo; \
    touch /new 2>/dev/null && echo wrote || echo cannot-write";

/// A busybox image whose second layer holds `app`, an absolute link to `outside`, and `rel`,
/// a relative one that climbs to it; run as root in `workdir`.
fn image(env: &Env, outside: &Path, workdir: &str) -> (Image, Vec<Vec<u8>>) {
    let climb = "../".repeat(outside.components().count() + 3);
    let outside_text = outside.display().to_string();
    let base = Tar::new().tree(&busybox_layer(env)).finish();
    let links = Tar::new()
        .symlink("app", &outside_text)
        .symlink("rel", &format!("{climb}{}", &outside_text[1..]))
        .finish();
    let tars = vec![base.clone(), links.clone()];
    let layers = [
        Layer::new(base, Compression::Gzip),
        Layer::new(links, Compression::None),
    ];
    let run = serde_json::json!({ "Cmd": ["/bin/sh", "-c", PROBE], "WorkingDir": workdir });
    (Image::build(&layers, run, host_arch(), false), tars)
}

#[test]
fn a_read_only_root_gets_the_images_missing_workdir() {
    let env = Env::new();
    let outside = env.dir.path().join("outside");
    let (image, tars) = image(&env, &outside, "/not/there");
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let expected = "/not/there\ndrwxr-xr-x 0 0\nro\ncannot-write\n";
    let name = unique_name("img-wd-ro");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\n[security]\nreadonly_rootfs = true\n"),
    );
    assert_eq!(ok(&up(&env, &[], &f)), expected);
    assert_nothing_left(&env, &name);
    let name = unique_name("img-wd-run-ro");
    let out = env.run(&["run", "--name", &name, "--read-only", &reference]);
    assert_eq!(ok(&out), expected);
    assert_nothing_left(&env, &name);
    // Writable, the same directory: the root mount is `rw` and takes the file.
    let name = unique_name("img-wd-rw");
    let out = env.run(&["run", "--name", &name, &reference]);
    assert_eq!(ok(&out), "/not/there\ndrwxr-xr-x 0 0\nrw\nwrote\n");
    assert_nothing_left(&env, &name);
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after, "the workdir went to the upper directory");
}

/// WorkingDir `/app/sub` and `/rel/sub`, through links to a host path: the container starts
/// in `sub` of that path inside its root; on the host the path never appears.
#[test]
fn a_workdir_through_a_link_out_of_the_root_is_not_made_on_the_host() {
    let env = Env::new();
    let outside = env.dir.path().join("outside");
    for (tag, workdir) in [("abs", "/app/sub"), ("rel", "/rel/sub")] {
        for read_only in [true, false] {
            let (image, _) = image(&env, &outside, workdir);
            let reference = pulled(&env, tag, &image);
            let name = unique_name("img-wd-link");
            let mut args = vec!["run", "--name", &name];
            if read_only {
                args.push("--read-only");
            }
            args.extend([reference.as_str(), "sh", "-c", "cd -P . && pwd"]);
            let out = env.run(&args);
            assert_eq!(
                ok(&out),
                format!("{}/sub\n", outside.display()),
                "{workdir}: in the root's own copy of the path"
            );
            assert!(!outside.exists(), "{workdir}: made on the host");
            assert_nothing_left(&env, &name);
        }
    }
}
