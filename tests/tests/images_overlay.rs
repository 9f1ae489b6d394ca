//! Containers on images, their overlay roots: two containers share the store's layer
//! directories and none of each other's writes; read-only roots; failed starts and killed
//! boxes leave nothing; an attack through the overlay, then the host and the layers checked.

#[allow(dead_code)] // shared with images_run.rs
#[path = "images/run_support.rs"]
mod run_support;
#[allow(dead_code)] // shared with images.rs, which uses all of it
#[path = "images/support.rs"]
mod support;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use box_tests::{ok, stderr, unique_name};
use run_support::*;
use support::Env;

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
    // As the host's root, then as the root of a new user namespace (host uid 100000, on
    // layers box idmapped for it).
    for userns in ["", "[namespaces]\nuser = \"new\"\n"] {
        let name = unique_name("img-attack");
        let body = format!(
            "image = \"{reference}\"\nuser = \"0\"\nworkdir = \"/\"\ncommand = [\"sh\", \"-c\", {script:?}]\n{userns}"
        );
        let f = file(&env, &name, &body);
        let text = ok(&up(&env, &[], &f));
        assert_eq!(text, "done\n", "no step of the attack worked ({userns})");
        let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
        assert_eq!(before, after, "the layers are untouched ({userns})");
        assert_eq!(std::fs::read(marker.join("keep")).unwrap(), b"host");
        assert_nothing_left(&env, &name);
        // A second container on the image sees none of it.
        let name = unique_name("img-after");
        let f = file(
            &env,
            &name,
            &format!("image = \"{reference}\"\nuser = \"0\"\ncommand = [\"sh\", \"-c\", \"cat /opt/data /etc/passwd | wc -l; ls /link-to-host 2>&1 | wc -l\"]\n{userns}"),
        );
        assert_eq!(ok(&up(&env, &[], &f)), "3\n1\n");
        assert_nothing_left(&env, &name);
    }
}
