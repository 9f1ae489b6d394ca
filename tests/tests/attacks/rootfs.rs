//! Roots that would hand a container the host's files, or choose where box mounts `/proc`,
//! `/sys` and `/dev`: `box validate` and `box up` refuse each, and the host is checked after.

use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use box_tests::{busybox_rootfs, stderr, unique_name, Case};

/// A file the container would create in the host's `/etc`, were it given the host's root.
struct Marker(PathBuf);

impl Marker {
    fn new() -> Marker {
        Marker(Path::new("/etc").join(unique_name("box-attack-marker")))
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let existed = std::fs::remove_file(&self.0).is_ok();
        assert!(
            !existed || std::thread::panicking(),
            "the container created {} on the host",
            self.0.display()
        );
    }
}

fn refused(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(125), "{what}: {}", stderr(out));
    assert!(
        stderr(out).contains(
            "is this host's root directory (/), which the container could change; use \"host\""
        ),
        "{what}: {}",
        stderr(out)
    );
}

/// `rootfs = VALUE` with a command that writes the marker: refused by validate and up.
fn assert_refused(rootfs: &str, prepare: impl Fn(&mut std::process::Command)) {
    let marker = Marker::new();
    let case = Case::new(
        "attack-hostroot",
        &format!(
            "rootfs = \"{rootfs}\"\ncommand = [\"/bin/sh\", \"-c\", \"touch {}\"]\n",
            marker.0.display()
        ),
    );
    symlink("/", case.path("hostroot")).expect("symlink");
    std::fs::create_dir(case.path("bindroot")).expect("mkdir");
    for args in [&["validate"][..], &["up"]] {
        let mut cmd = case.command(args);
        prepare(&mut cmd);
        refused(
            &cmd.output().expect("run box"),
            &format!("{rootfs} {args:?}"),
        );
    }
    assert!(!marker.0.exists(), "the container ran on the host's root");
    case.assert_nothing_left();
}

#[test]
fn the_hosts_root_is_refused_by_name() {
    assert_refused("/", |_| {});
}

#[test]
fn a_symlink_to_the_hosts_root_is_refused() {
    assert_refused("hostroot", |_| {});
}

#[test]
fn a_bind_mount_of_the_hosts_root_is_refused() {
    // box runs in a private mount namespace of its own where `bindroot` is a bind mount of `/`,
    // so the host's mount table never holds it.
    assert_refused("bindroot", |cmd| {
        // SAFETY: only async-signal-safe syscalls between fork and exec, on static strings.
        unsafe {
            cmd.pre_exec(|| {
                let ok = libc::unshare(libc::CLONE_NEWNS) == 0
                    && libc::mount(
                        std::ptr::null(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ) == 0
                    && libc::mount(
                        c"/".as_ptr(),
                        c"bindroot".as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND,
                        std::ptr::null(),
                    ) == 0;
                if ok {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            })
        };
        // `bindroot` above is relative to the case's directory.
        let file = cmd.get_args().last().map(PathBuf::from).expect("box.toml");
        cmd.current_dir(file.parent().expect("its directory"));
    });
}

/// What the attacker puts at `/proc`, `/sys` or `/dev` in the root.
const IMPOSTORS: &[(&str, &str)] = &[
    ("link to /", "a symlink (to /)"),
    ("link to etc", "a symlink (to etc)"),
    ("file", "a regular file"),
];

fn plant(at: &Path, impostor: &str) {
    std::fs::remove_dir(at).expect("remove the directory");
    match impostor {
        "link to /" => symlink("/", at).expect("symlink"),
        "link to etc" => symlink("etc", at).expect("symlink"),
        _ => std::fs::write(at, "not a directory\n").expect("write"),
    }
}

#[test]
fn proc_sys_and_dev_must_be_directories() {
    for name in ["proc", "sys", "dev"] {
        for (impostor, found) in IMPOSTORS {
            let case = Case::new("attack-kerneldir", "");
            let root = busybox_rootfs(case.dir.path());
            plant(&root.join(name), impostor);
            let etc_before = std::fs::read_dir(root.join("etc")).expect("etc").count();
            std::fs::write(
                case.file(),
                format!(
                    "name = \"{}\"\nrootfs = \"rootfs\"\ncommand = [\"/bin/touch\", \"/marker\"]\n",
                    case.name
                ),
            )
            .expect("write box.toml");
            let out = case.up();
            let err = stderr(&out);
            assert!(!out.status.success(), "/{name} as {impostor} started");
            let want = format!(
                "/{name} in the container's root is {found}; it must be a directory (box does not follow links there)"
            );
            assert!(err.contains(&want), "/{name} as {impostor}: {err}");
            if (name, *impostor) == ("proc", "link to /") {
                insta::assert_snapshot!(err);
            }
            // The container never ran, box mounted nothing through the impostor, which is
            // left as it was.
            assert!(
                !root.join("marker").exists(),
                "/{name} as {impostor}: it ran"
            );
            let meta = std::fs::symlink_metadata(root.join(name)).expect("stat");
            assert_eq!(meta.is_file(), *impostor == "file", "/{name} as {impostor}");
            let etc_after = std::fs::read_dir(root.join("etc")).expect("etc").count();
            assert_eq!(etc_before, etc_after, "/{name} as {impostor}: etc changed");
            case.assert_nothing_left();
        }
    }
}
