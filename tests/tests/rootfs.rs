//! The container's root filesystem, as seen from inside it and from the host afterwards.

use box_tests::{busybox_rootfs, ok, stderr, stdout, Case};

fn sh(script: &str) -> String {
    format!("command = [\"/bin/sh\", \"-c\", {script:?}]\n")
}

#[test]
fn masked_proc_files_read_empty_and_proc_sys_is_read_only() {
    // Docker's masked files that this kernel has (it may lack /proc/kcore).
    let masked: Vec<&str> = ["/proc/kcore", "/proc/keys", "/proc/timer_list"]
        .into_iter()
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    assert!(
        !masked.is_empty(),
        "no masked path exists on this host to test"
    );
    let script = format!(
        "for f in {}; do echo \"$f $(stat -c %F $f) $(cat $f | wc -c)\"; done; if echo x > /proc/sys/kernel/domainname; then echo writable; else echo readonly; fi",
        masked.join(" ")
    );
    let case = Case::new("fs-masked", &sh(&script));
    let out = ok(&case.up());
    let mut lines = out.lines();
    for path in &masked {
        assert_eq!(
            lines.next(),
            Some(format!("{path} character special file 0").as_str())
        );
    }
    assert_eq!(lines.next(), Some("readonly"));
    case.assert_nothing_left();
}

#[test]
fn host_root_is_read_only_with_private_writable_tmp() {
    let case = Case::new(
        "fs-host",
        &sh("touch /usr/boxtest 2>/dev/null && echo usr-writable; echo hi > /tmp/f && cat /tmp/f; ls /tmp"),
    );
    let out = ok(&case.up());
    assert_eq!(out, "hi\nf\n");
    case.assert_nothing_left();
}

#[test]
fn a_directory_root_hides_the_hosts_files() {
    let case = Case::new("fs-dir", "rootfs = \"rootfs\"\n");
    busybox_rootfs(case.dir.path());
    let body = format!(
        "rootfs = \"rootfs\"\n{}",
        sh("cat /etc/marker; test -e /etc/os-release && echo host-visible; test -e /usr/bin && echo usr-visible; echo done")
    );
    std::fs::write(case.file(), format!("name = \"{}\"\n{body}", case.name)).unwrap();
    assert_eq!(ok(&case.up()), "inside the busybox root\ndone\n");
    case.assert_nothing_left();
}

#[test]
fn bind_and_tmpfs_mounts_appear_where_configured() {
    let case = Case::new("fs-mounts", "");
    std::fs::create_dir(case.path("data")).unwrap();
    std::fs::write(case.path("data/file"), "shared from the host\n").unwrap();
    let body = format!(
        "{}\n[[mounts]]\ntype = \"bind\"\nsource = \"data\"\ntarget = \"/data\"\nreadonly = true\n\n[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/scratch\"\nsize = \"1m\"\nmode = \"700\"\n",
        sh("cat /data/file; touch /data/new 2>/dev/null && echo data-writable; grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; stat -c %a /scratch")
    );
    std::fs::write(case.file(), format!("name = \"{}\"\n{body}", case.name)).unwrap();
    let out = ok(&case.up());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "shared from the host");
    assert!(
        lines[1].starts_with("tmpfs rw,") && lines[1].contains("size=1024k"),
        "{out}"
    );
    assert_eq!(lines[2], "700");
    assert!(!case.path("data/new").exists());
    case.assert_nothing_left();
}

#[test]
fn readonly_rootfs_makes_root_read_only() {
    let case = Case::new("fs-ro", "");
    busybox_rootfs(case.dir.path());
    let body = format!(
        "rootfs = \"rootfs\"\n{}[security]\nreadonly_rootfs = true\n",
        sh("touch /newfile 2>/dev/null && echo root-writable; touch /tmp/ok 2>/dev/null && echo tmp-writable; echo done")
    );
    std::fs::write(case.file(), format!("name = \"{}\"\n{body}", case.name)).unwrap();
    let out = ok(&case.up());
    assert!(!out.contains("root-writable"), "{out}");
    assert!(!case.path("rootfs/newfile").exists());
    case.assert_nothing_left();
}

#[test]
fn mount_targets_do_not_follow_symlinks_out_of_the_root() {
    let case = Case::new("fs-escape", "");
    let root = busybox_rootfs(case.dir.path());
    std::os::unix::fs::symlink("/", root.join("evil")).unwrap();
    let escape = format!("boxtest-escape-{}", case.name);
    let body = format!(
        "rootfs = \"rootfs\"\n{}\n[[mounts]]\ntype = \"tmpfs\"\ntarget = \"/evil/{escape}\"\n",
        sh("echo ran")
    );
    std::fs::write(case.file(), format!("name = \"{}\"\n{body}", case.name)).unwrap();
    let out = case.up();
    // Refused or kept inside the root: either way the host's / is untouched.
    assert!(
        !std::path::Path::new("/").join(&escape).exists(),
        "a mount target escaped the root: {}{}",
        stdout(&out),
        stderr(&out)
    );
    case.assert_nothing_left();
}

#[path = "rootfs/mountinfo.rs"]
mod mountinfo;
