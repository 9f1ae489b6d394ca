//! What the tests of containers on images share: an application image, box.toml files, and
//! checks of the layers and of the host.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::{cgroup_dirs, mounts, ok};

use super::support::{busybox_layer, Env};

/// A busybox layer and an application layer with a user `app` (1000, also in group `staff`,
/// 50), running as that user in a working directory the image does not have.
pub fn app_image(env: &Env, run: serde_json::Value) -> (Image, Vec<Vec<u8>>) {
    let base = Tar::new().tree(&busybox_layer(env)).finish();
    let app = Tar::new()
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
        )
        .file("etc/group", b"root:x:0:\napp:x:1000:\nstaff:x:50:app\n")
        .dir("home/")
        .dir("home/app/")
        .file("opt/data", b"from the image\n")
        .finish();
    let tars = vec![base.clone(), app.clone()];
    let layers = [
        Layer::new(base, Compression::Gzip),
        Layer::new(app, Compression::Zstd),
    ];
    (Image::build(&layers, run, host_arch(), false), tars)
}

pub fn default_run() -> serde_json::Value {
    serde_json::json!({
        "Cmd": ["/bin/sh", "-c", "echo cmd; id -u; id -g; id -G; pwd; echo $HOME $GREETING; cat /etc/marker"],
        "Env": ["PATH=/bin", "GREETING=hello"],
        "WorkingDir": "/opt/work",
        "User": "app",
    })
}

/// Pushes `image` as `app:TAG`, pulls it; the reference.
pub fn pulled(env: &Env, tag: &str, image: &Image) -> String {
    env.registry.push("app", tag, image);
    let reference = format!("{}/app:{tag}", env.registry.host());
    ok(&env.run(&["pull", "-q", &reference]));
    reference
}

/// A box.toml named `name` with `body`, in the test's directory.
pub fn file(env: &Env, name: &str, body: &str) -> PathBuf {
    let path = env.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, format!("name = \"{name}\"\n{body}")).unwrap();
    path
}

pub fn up(env: &Env, args: &[&str], file: &Path) -> std::process::Output {
    let mut all = vec!["up"];
    all.extend(args);
    all.push(file.to_str().unwrap());
    env.run(&all)
}

/// Nothing of container `name` on the host: its state (with its overlay's upper and work
/// directories), its cgroups, any overlay mount of the test's store or state.
pub fn assert_nothing_left(env: &Env, name: &str) {
    let state = env.root().join(name);
    assert!(!state.exists(), "{} left behind", state.display());
    for dir in cgroup_dirs(name) {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
    let ours = env.dir.path().display().to_string();
    let overlays: Vec<_> = mounts()
        .into_iter()
        .filter(|m| m.fstype == "overlay" || m.mount_point.starts_with(env.dir.path()))
        .filter(|m| format!("{m:?}").contains(&ours))
        .collect();
    assert!(overlays.is_empty(), "mounts left behind: {overlays:#?}");
}

/// Every entry under `dir`: path, inode, mode, owner, mtime and content. What no container may
/// change of a layer.
pub fn snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let sum = if m.is_file() {
                box_tests::oci::sha256(&std::fs::read(&p).unwrap())
            } else {
                String::new()
            };
            if m.is_dir() {
                todo.push(p.clone());
            }
            out.push(format!(
                "{} {} {:o} {}:{} {} {sum}",
                p.display(),
                m.ino(),
                m.mode(),
                m.uid(),
                m.gid(),
                m.mtime()
            ));
        }
    }
    out.sort();
    out
}

/// The root mount of `pid`'s mount namespace, as its mountinfo line shows it.
pub fn root_mount(pid: &str) -> String {
    let info = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    info.lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .unwrap_or_else(|| panic!("no root mount:\n{info}"))
        .to_string()
}

/// The lower directories an overlay mount line lists, top first.
pub fn lowerdirs(line: &str) -> Vec<String> {
    let options = line.rsplit(' ').next().unwrap();
    let mut dirs = Vec::new();
    for o in options.split(',') {
        if let Some(list) = o.strip_prefix("lowerdir=") {
            dirs.extend(list.split(':').map(String::from));
        } else if let Some(one) = o.strip_prefix("lowerdir+=") {
            dirs.push(one.to_string());
        }
    }
    dirs
}

pub fn wait_for(path: &Path) {
    for _ in 0..500 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}
