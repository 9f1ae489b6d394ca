//! Image roots in a new user namespace (`namespaces.user = "new"`): the layers keep the host's
//! ids on the disk, shared with every other container, and the container's root still owns
//! its `/` and the image's files (box idmaps the layers for its overlay); what it writes
//! lands in its upper directory owned by its host uid; the layers are untouched.

#[allow(dead_code)] // shared with images_run.rs
#[path = "images/run_support.rs"]
mod run_support;
#[allow(dead_code)] // shared with images.rs, which uses all of it
#[path = "images/support.rs"]
mod support;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use box_tests::{ok, unique_name};
use run_support::*;
use support::Env;

/// Container root is host uid 100000 (box's default map).
const HOST_ROOT: u32 = 100_000;

#[test]
fn the_images_cmd_runs_as_its_user_in_a_new_user_namespace() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let name = unique_name("img-userns-cmd");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\n[namespaces]\nuser = \"new\"\n"),
    );
    assert_eq!(
        ok(&up(&env, &[], &f)),
        "cmd\n1000\n1000\n1000 50\n/opt/work\n/home/app hello\ninside the busybox root\n"
    );
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after, "the layers are untouched");
    assert_nothing_left(&env, &name);
}

#[test]
fn the_containers_root_owns_its_root_and_writes_as_its_host_uid() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let name = unique_name("img-userns");
    let script = "head -1 /proc/self/uid_map | tr -s ' '; id -u; stat -c '%u %g %n' / /etc/passwd /opt/data; \
        echo mine > /newfile; echo more >> /opt/data; mkdir /etc/made; touch /ready; exec sleep 1000";
    let f = file(
        &env,
        &name,
        &format!(
            "image = \"{reference}\"\nuser = \"0\"\nworkdir = \"/\"\ncommand = [\"sh\", \"-c\", {script:?}]\n[namespaces]\nuser = \"new\"\n"
        ),
    );
    assert_eq!(ok(&up(&env, &["-d"], &f)), format!("{name}\n"));
    let pid = ok(&env.run(&["inspect", "--format", "{{.State.Pid}}", &name]))
        .trim()
        .to_string();
    wait_for(&PathBuf::from(format!("/proc/{pid}/root/ready")));
    assert_eq!(
        ok(&env.run(&["logs", &name])),
        " 0 100000 65536\n0\n0 0 /\n0 0 /etc/passwd\n0 0 /opt/data\n",
        "inside: root of its namespace, owning / and the image's files"
    );
    // On the host: the upper directory and what was written or copied up are the
    // container root's host uid; the layers still hold uid 0.
    let upper = env.root().join(&name).join("overlay/upper");
    for path in ["", "newfile", "opt/data", "etc/made"] {
        let meta = std::fs::symlink_metadata(upper.join(path)).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (HOST_ROOT, HOST_ROOT),
            "upper/{path} on the host"
        );
    }
    assert_eq!(
        std::fs::read_to_string(upper.join("opt/data")).unwrap(),
        "from the image\nmore\n"
    );
    let layer_data = env.layer_dir(&tars[1]).join("opt/data");
    assert_eq!(std::fs::metadata(&layer_data).unwrap().uid(), 0);
    ok(&env.run(&["rm", "-f", &name]));
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after, "the layers are untouched");
    assert_nothing_left(&env, &name);
}
