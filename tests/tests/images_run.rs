//! Containers on images end to end: `box pull` from a registry the test starts, then `box up`
//! of `image = "HOST/…"`: the image's process and user, box.toml's precedence, an overlay root
//! over the store's shared layer directories, each container's writes its own, and nothing
//! left on the host afterwards (no state, no upper directory, no cgroup, no overlay mount).

#[allow(dead_code)] // shared with images.rs, which uses all of it
#[path = "images/support.rs"]
mod support;

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::{box_bin, cgroup_dirs, mounts, ok, stderr, unique_name};
use support::{busybox_layer, Env};

/// A busybox layer and an application layer with a user `app` (1000, also in group `staff`,
/// 50), running as that user in a working directory the image does not have.
fn app_image(env: &Env, run: serde_json::Value) -> (Image, Vec<Vec<u8>>) {
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

fn default_run() -> serde_json::Value {
    serde_json::json!({
        "Cmd": ["/bin/sh", "-c", "echo cmd; id -u; id -g; id -G; pwd; echo $HOME $GREETING; cat /etc/marker"],
        "Env": ["PATH=/bin", "GREETING=hello"],
        "WorkingDir": "/opt/work",
        "User": "app",
    })
}

/// Pushes `image` as `app:TAG`, pulls it; the reference.
fn pulled(env: &Env, tag: &str, image: &Image) -> String {
    env.registry.push("app", tag, image);
    let reference = format!("{}/app:{tag}", env.registry.host());
    ok(&env.run(&["pull", "-q", &reference]));
    reference
}

/// A box.toml named `name` with `body`, in the test's directory.
fn file(env: &Env, name: &str, body: &str) -> PathBuf {
    let path = env.dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, format!("name = \"{name}\"\n{body}")).unwrap();
    path
}

fn up(env: &Env, args: &[&str], file: &Path) -> std::process::Output {
    let mut all = vec!["up"];
    all.extend(args);
    all.push(file.to_str().unwrap());
    env.run(&all)
}

/// Nothing of container `name` on the host: its state (with its overlay's upper and work
/// directories), its cgroups, any overlay mount of the test's store or state.
fn assert_nothing_left(env: &Env, name: &str) {
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
fn snapshot(dir: &Path) -> Vec<String> {
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

#[test]
fn box_up_runs_the_images_cmd_as_its_user_on_an_overlay_root() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let layers: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let name = unique_name("img-cmd");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    let out = up(&env, &[], &f);
    assert_eq!(
        ok(&out),
        "cmd\n1000\n1000\n1000 50\n/opt/work\n/home/app hello\ninside the busybox root\n"
    );
    assert_eq!(stderr(&out), "", "found in the store, not pulled again");
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(
        layers, after,
        "the layers are untouched (the workdir went to the upper)"
    );
    assert_nothing_left(&env, &name);
}

#[test]
fn box_toml_overrides_the_image_by_dockers_rules() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    // command replaces Cmd; env, user and workdir replace the image's.
    let name = unique_name("img-over");
    let f = file(
        &env,
        &name,
        &format!(
            "image = \"{reference}\"\ncommand = [\"sh\", \"-c\", \"echo $GREETING $HOME; id -un; pwd\"]\nuser = \"root\"\nworkdir = \"/tmp\"\n[env]\nGREETING = \"bye\"\n"
        ),
    );
    assert_eq!(ok(&up(&env, &[], &f)), "bye /root\nroot\n/tmp\n");
    assert_nothing_left(&env, &name);

    // An entrypoint: `command` is its arguments; a new entrypoint drops the image's Cmd.
    let run = serde_json::json!({"Entrypoint": ["/bin/echo", "ep"], "Cmd": ["from-cmd"]});
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "ep", &image);
    for (body, expected) in [
        ("", "ep from-cmd\n"),
        ("command = [\"given\"]\n", "ep given\n"),
        ("entrypoint = [\"/bin/echo\", \"new\"]\n", "new\n"),
        (
            "entrypoint = [\"/bin/echo\", \"new\"]\ncommand = [\"args\"]\n",
            "new args\n",
        ),
    ] {
        let name = unique_name("img-ep");
        let f = file(&env, &name, &format!("image = \"{reference}\"\n{body}"));
        assert_eq!(ok(&up(&env, &[], &f)), expected, "{body}");
        assert_nothing_left(&env, &name);
    }
}

#[test]
fn image_and_rootfs_together_or_a_missing_image_are_errors_naming_the_key() {
    let env = Env::new();
    let name = unique_name("img-both");
    let f = file(&env, &name, "image = \"busybox\"\nrootfs = \"/tmp\"\n");
    let out = up(&env, &[], &f);
    assert_eq!(out.status.code(), Some(125));
    let shown = |out: &std::process::Output| {
        stderr(out)
            .replace(&f.display().to_string(), "FILE")
            .replace(&env.store().display().to_string(), "STORE")
    };
    insta::assert_snapshot!(shown(&out), @"box: FILE:2:1: image: a container runs on an image or on a rootfs, not both: drop one of the two keys");
    // Not in the store: `box validate` says how to get it (`box up` would pull it).
    let f = file(&env, &name, "image = \"localhost:1/none:1\"\n");
    let out = env.run(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125));
    insta::assert_snapshot!(shown(&out), @"box: FILE:2:1: image: no such image in the store STORE: `box up` pulls it, or run `box pull localhost:1/none:1`");
    assert_nothing_left(&env, &name);
}

#[test]
fn box_up_pulls_an_image_the_store_lacks() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    env.registry.push("app", "auto", &image);
    let reference = format!("{}/app:auto", env.registry.host());
    let name = unique_name("img-pull");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\nuser = \"0\"\ncommand = [\"cat\", \"/opt/data\"]\n"),
    );
    let out = up(&env, &[], &f);
    assert_eq!(ok(&out), "from the image\n");
    assert!(
        stderr(&out).contains("not in the store, pulling it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.images().len(), 1);
    assert_nothing_left(&env, &name);
}

/// The root mount of `pid`'s mount namespace, as its mountinfo line shows it.
fn root_mount(pid: &str) -> String {
    let info = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    info.lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .unwrap_or_else(|| panic!("no root mount:\n{info}"))
        .to_string()
}

/// The lower directories an overlay mount line lists, top first.
fn lowerdirs(line: &str) -> Vec<String> {
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

fn wait_for(path: &Path) {
    for _ in 0..500 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn two_containers_share_the_layers_never_each_others_writes() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let mut names = Vec::new();
    let mut pids = Vec::new();
    for which in ["one", "two"] {
        let name = unique_name(&format!("img-{which}"));
        let f = file(
            &env,
            &name,
            &format!(
                "image = \"{reference}\"\nuser = \"0\"\ncommand = [\"sh\", \"-c\", \"echo {which} > /mine; echo {which} >> /opt/data; rm /etc/marker; touch /ready; exec sleep 1000\"]\n"
            ),
        );
        assert_eq!(ok(&up(&env, &["-d"], &f)), format!("{name}\n"));
        let pid = ok(&env.run(&["inspect", "--format", "{{.State.Pid}}", &name]))
            .trim()
            .to_string();
        wait_for(&PathBuf::from(format!("/proc/{pid}/root/ready")));
        names.push(name);
        pids.push(pid);
    }
    let roots: Vec<String> = pids.iter().map(|p| root_mount(p)).collect();
    let expected: Vec<String> = tars
        .iter()
        .rev()
        .map(|t| env.layer_dir(t).display().to_string())
        .collect();
    for root in &roots {
        assert!(root.contains(" - overlay "), "{root}");
        assert_eq!(
            lowerdirs(root),
            expected,
            "the store's layer directories: {root}"
        );
    }
    // The same files: the busybox binary each container runs is the layer's inode.
    let layer_busybox = std::fs::metadata(env.layer_dir(&tars[0]).join("bin/busybox")).unwrap();
    for pid in &pids {
        let seen = std::fs::metadata(format!("/proc/{pid}/root/bin/busybox")).unwrap();
        assert_eq!(
            seen.ino(),
            layer_busybox.ino(),
            "a lower file is shown as is"
        );
    }
    for (pid, which) in pids.iter().zip(["one", "two"]) {
        let root = PathBuf::from(format!("/proc/{pid}/root"));
        assert_eq!(
            std::fs::read_to_string(root.join("mine")).unwrap(),
            format!("{which}\n")
        );
        assert_eq!(
            std::fs::read_to_string(root.join("opt/data")).unwrap(),
            format!("from the image\n{which}\n"),
            "its own copy-up only"
        );
        assert!(!root.join("etc/marker").exists());
    }
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after, "the layers are untouched");
    // In use: refused, by name and by ID.
    let out = env.run(&["rmi", &reference]);
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is used by container"),
        "{}",
        stderr(&out)
    );
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.root().join(&names[0]).join("state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["image"]["reference"], serde_json::json!(reference));
    assert_eq!(
        state["image"]["manifest"],
        serde_json::json!(image.digest())
    );
    for name in &names {
        ok(&env.run(&["rm", "-f", name]));
        assert_nothing_left(&env, name);
    }
    ok(&env.run(&["rmi", &reference]));
    assert_eq!(env.store_entries("layers"), 0);
}

/// A start that fails after the overlay's directories are made (no such command) and a box
/// killed with -9 (its container dies with it, `box rm` removes what is left) leave nothing.
#[test]
fn failed_starts_and_killed_boxes_leave_no_upper_directory() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let name = unique_name("img-fail");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\ncommand = [\"/nonexistent\"]\n"),
    );
    let out = up(&env, &[], &f);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert_nothing_left(&env, &name);

    let name = unique_name("img-kill");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\nuser = \"0\"\ncommand = [\"sh\", \"-c\", \"echo w > /written; touch /ready; exec sleep 1000\"]\n"),
    );
    let mut boxed = env.command(&["up", f.to_str().unwrap()]).spawn().unwrap();
    let overlay = env.root().join(&name).join("overlay");
    wait_for(&overlay.join("upper/ready"));
    boxed.kill().unwrap(); // SIGKILL
    boxed.wait().unwrap();
    assert!(
        overlay.join("upper/written").exists(),
        "a killed box removed nothing"
    );
    // The container dies with its box (parent-death signal); then it is `dead`.
    for _ in 0..500 {
        let status = ok(&env.run(&["inspect", "--format", "{{.State.Status}}", &name]));
        if status.trim() == "dead" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ok(&env.run(&["rm", "-f", &name]));
    assert_nothing_left(&env, &name);
}

/// `box stop` sends the image's StopSignal first: PID 1 handles SIGUSR1 (and, as PID 1 of its
/// namespace, ignores an unhandled SIGTERM, which would end only with SIGKILL's 137).
#[test]
fn box_stop_sends_the_images_stop_signal() {
    let env = Env::new();
    let run = serde_json::json!({
        "Cmd": ["/bin/sh", "-c", "trap 'exit 42' USR1; touch /ready; while :; do sleep 0.05; done"],
        "StopSignal": "SIGUSR1",
    });
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "stop", &image);
    let name = unique_name("img-stop");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    assert_eq!(ok(&up(&env, &["-d"], &f)), format!("{name}\n"));
    wait_for(&env.root().join(&name).join("overlay/upper/ready"));
    ok(&env.run(&["stop", "-t", "30", &name]));
    let code = ok(&env.run(&["inspect", "--format", "{{.State.ExitCode}}", &name]));
    assert_eq!(code.trim(), "42", "the trap ran: SIGUSR1 came first");
    ok(&env.run(&["rm", &name]));
    assert_nothing_left(&env, &name);
}

#[test]
fn read_only_root_on_an_image() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let name = unique_name("img-ro");
    let f = file(
        &env,
        &name,
        &format!(
            "image = \"{reference}\"\nuser = \"0\"\nworkdir = \"/\"\ncommand = [\"sh\", \"-c\", \"touch /x 2>&1; echo changed > /opt/data 2>&1; cat /opt/data\"]\n[security]\nreadonly_rootfs = true\n"
        ),
    );
    let text = ok(&up(&env, &[], &f));
    assert!(text.contains("Read-only file system"), "{text}");
    assert!(text.ends_with("from the image\n"), "{text}");
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after);
    assert_nothing_left(&env, &name);
}

/// A container on an image, root inside and able to mknod and chown (Docker's default
/// capabilities), tries to reach the layers and the host through its root and its upper
/// directory: symlinks and hard links to host paths, overlay's own xattrs, a whiteout of its
/// own, a mount. Afterwards the host's marker and the layers are as they were, and removing
/// the container followed none of its links.
#[test]
fn a_container_cannot_write_the_layers_or_the_host_through_its_overlay() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let before: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let marker = env.dir.path().join("host-marker");
    std::fs::create_dir(&marker).unwrap();
    std::fs::write(marker.join("keep"), b"host").unwrap();
    let layer = env.layer_dir(&tars[1]).display().to_string();
    let marker_text = marker.display().to_string();
    let script = format!(
        "cd /; \
         ln -s {marker_text} /link-to-host; echo x > /link-to-host/keep 2>/dev/null; \
         ln -s {layer} /link-to-layer; echo x > /link-to-layer/opt/data 2>/dev/null; \
         mkdir -p /deep/deeper; ln -s {marker_text} /deep/deeper/up; \
         ln /opt/data /hard 2>/dev/null; echo hard >> /hard; \
         setfattr -n trusted.overlay.redirect -v {layer} /opt 2>/dev/null && echo xattr-set; \
         setfattr -n trusted.overlay.opaque -v y /etc 2>/dev/null && echo opaque-set; \
         mknod /etc/passwd.wh c 0 0 2>/dev/null; rm -f /etc/passwd; \
         mount -t tmpfs none /mnt 2>/dev/null && echo mounted; \
         ls {layer} 2>/dev/null && echo layer-visible; \
         cat /proc/self/mountinfo > /dev/null; echo done"
    );
    let name = unique_name("img-attack");
    let body = format!(
        "image = \"{reference}\"\nuser = \"0\"\nworkdir = \"/\"\ncommand = [\"sh\", \"-c\", {script:?}]\n"
    );
    let f = file(&env, &name, &body);
    let text = ok(&up(&env, &[], &f));
    assert_eq!(text, "done\n", "no step of the attack worked");
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(before, after, "the layers are untouched");
    assert_eq!(std::fs::read(marker.join("keep")).unwrap(), b"host");
    assert_nothing_left(&env, &name);
    // A second container on the image sees none of it.
    let name = unique_name("img-after");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\nuser = \"0\"\ncommand = [\"sh\", \"-c\", \"cat /opt/data /etc/passwd | wc -l; ls /link-to-host 2>&1 | wc -l\"]\n"),
    );
    assert_eq!(ok(&up(&env, &[], &f)), "3\n1\n");
    assert_nothing_left(&env, &name);
}

#[test]
fn box_up_t_on_an_ubuntu_like_image_gets_a_shell() {
    let env = Env::new();
    let run = serde_json::json!({"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]});
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "shell", &image);
    let name = unique_name("img-tty");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    // script(1) gives box a real terminal, as `docker run -it ubuntu` from a shell has.
    let inner = format!(
        "{} --store {} --root {} up -t {}",
        box_bin().display(),
        env.store().display(),
        env.root().display(),
        f.display()
    );
    let mut script = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run script (util-linux)");
    let mut stdin = script.stdin.take().unwrap();
    stdin
        .write_all(b"test -t 0 && echo tty-$(id -u)-$(cat /etc/marker | wc -c); exit 7\n")
        .unwrap();
    let out = script.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tty-0-24"), "{text}");
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert_nothing_left(&env, &name);
}
