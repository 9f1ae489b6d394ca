//! Mounts of any filesystem type from config.json, seen in the container's mountinfo with
//! their options, and a destination through a symlink to / that stays inside the root.

use std::path::Path;

use serde_json::json;

use crate::direct::Bundle;
use crate::support::{expect_code, mounts_below, text};

/// The mountinfo line whose mount point is `point`: (per-mount options, type, super options).
fn mount_at<'a>(mountinfo: &'a str, point: &str) -> Option<(&'a str, &'a str, &'a str)> {
    mountinfo.lines().find_map(|l| {
        let fields: Vec<&str> = l.split(' ').collect();
        if fields.get(4) != Some(&point) {
            return None;
        }
        let dash = fields.iter().position(|f| *f == "-")?;
        Some((fields[5], fields[dash + 1], *fields.get(dash + 3)?))
    })
}

#[test]
fn overlay_and_ramfs_mounts_with_their_options_and_no_escape_through_a_symlink() {
    let b = Bundle::new("mounts", |_| {});
    let host = |rel: &str| b.dir().join(rel);
    for d in ["lower", "upper", "work"] {
        std::fs::create_dir(host(d)).unwrap();
    }
    std::fs::write(host("lower/from-lower"), "lower\n").unwrap();
    // The container's /escape is a symlink to /: followed on the host it would be the host's /.
    std::os::unix::fs::symlink("/", b.scratch.rootfs.join("escape")).unwrap();
    let marker = format!("box-oci-escape-{}", std::process::id());
    let config_path = b.dir().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    let mounts = config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({
        "destination": "/mnt/ovl", "type": "overlay", "source": "overlay",
        "options": [
            "nodev", "noexec",
            format!("lowerdir={}", host("lower").display()),
            format!("upperdir={}", host("upper").display()),
            format!("workdir={}", host("work").display()),
        ]
    }));
    mounts.push(json!({
        "destination": "/mnt/ram", "type": "ramfs", "source": "ramfs",
        "options": ["nosuid", "nodev", "ro", "mode=0750"]
    }));
    mounts.push(json!({
        "destination": format!("/escape/{marker}"), "type": "ramfs", "source": "ramfs",
        "options": ["noatime"]
    }));
    mounts.push(json!({
        "destination": "/dev/pts2", "type": "devpts", "source": "devpts",
        "options": ["newinstance", "ptmxmode=0600", "nosuid", "noexec"]
    }));
    config["process"]["args"] = json!([
        "sh",
        "-c",
        "cat /mnt/ovl/from-lower; echo up > /mnt/ovl/from-container; \
         stat -c %a /mnt/ram; cat /proc/self/mountinfo"
    ]);
    std::fs::write(&config_path, config.to_string()).unwrap();

    let out = b.runc(&["run", "--bundle", b.dir().to_str().unwrap(), "mnt1"]);
    expect_code(&out, 0);
    let seen = text(&out);
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("lower"), "{seen}");
    assert_eq!(lines.next(), Some("750"), "ramfs's mode: {seen}");
    let mountinfo: String = lines.collect::<Vec<_>>().join("\n");

    let (opts, fs, sup) = mount_at(&mountinfo, "/mnt/ovl").expect("the overlay");
    assert_eq!(fs, "overlay");
    assert!(opts.starts_with("rw,") && opts.contains("nodev") && opts.contains("noexec"));
    assert!(
        sup.contains(&format!("upperdir={}", host("upper").display())),
        "{sup}"
    );
    let (opts, fs, sup) = mount_at(&mountinfo, "/mnt/ram").expect("the ramfs");
    assert_eq!(fs, "ramfs");
    assert!(opts.starts_with("ro,") && opts.contains("nosuid") && opts.contains("nodev"));
    assert!(sup.contains("mode=750"), "{sup}");
    let (opts, fs, _) = mount_at(&mountinfo, "/dev/pts2").expect("the second devpts");
    assert_eq!(fs, "devpts");
    assert!(opts.contains("nosuid") && opts.contains("noexec"), "{opts}");
    // Through /escape -> /: inside the container's root, not on the host's.
    let (opts, fs, _) = mount_at(&mountinfo, &format!("/{marker}")).expect("inside the root");
    assert_eq!(fs, "ramfs");
    assert!(opts.contains("noatime"), "{opts}");
    assert!(
        !Path::new("/").join(&marker).exists(),
        "made on the host's /"
    );
    let host_mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(mount_at(&host_mountinfo, &format!("/{marker}")).is_none());
    assert!(b.scratch.rootfs.join(&marker).is_dir(), "made in the root");
    // The container's write went to the upper directory on the host; nothing stays mounted.
    assert_eq!(
        std::fs::read_to_string(host("upper/from-container")).unwrap(),
        "up\n"
    );
    assert_eq!(mounts_below(b.dir()), Vec::<String>::new());
}
