//! `..` out of the container's root. A marker file sits just outside the root on the host
//! (the root is `<case>/rootfs`, the marker `<case>/MARKER`, one `..` away) and another inside
//! it; the probe walks up from everything it holds and reads whatever marker it meets, and
//! tries to create a file at every level.

use std::path::Path;

use box_tests::unique_name;

use crate::support::{assert_absent, bind, Attack, Report};

const MARKER: &str = "box-attack-marker";

/// The name of the file the probe tries to create at every level it reaches.
fn escape_name() -> String {
    unique_name("box-attack-escaped")
}

fn place_markers(attack: &Attack) {
    std::fs::write(attack.dir().join(MARKER), "outside\n").unwrap();
    std::fs::write(attack.root.join(MARKER), "inside\n").unwrap();
}

/// Asserts that no walk read the outside marker, and that `starts` each reached the
/// container's root and read the inside one (so the walk itself works).
fn assert_stayed_inside(report: &Report, starts: &[&str]) {
    let walks: Vec<_> = report.starting_with("walk ").collect();
    assert!(!walks.is_empty(), "{}", report.text);
    for (start, result) in &walks {
        assert!(
            !result.contains("outside"),
            "{start} escaped: {result}\n{}",
            report.text
        );
    }
    for start in starts {
        let result = report.get(&format!("walk {start}"));
        assert!(
            result.starts_with("found=inside ") && result.ends_with(" end=top"),
            "{start}: {result}\n{}",
            report.text
        );
    }
}

#[test]
fn no_fd_cwd_or_root_leads_out_of_the_container() {
    let new = escape_name();
    // The shell (PID 1) sits in /data and holds directory fds 3 (/data) and 4 (/), which the
    // probe inherits. A bind mount's `..` is its mount point's parent in the container, never
    // its source's parent on the host (here the case directory, where the outside marker is).
    let script =
        format!("cd /data && exec 3< /data 4< / && /probe walk {MARKER} {new} /data; true");
    let attack = Attack::new(
        "atk-walk",
        &["/bin/sh", "-c", &script],
        &bind(Path::new("data"), "/data", true),
    );
    place_markers(&attack);
    std::fs::create_dir(attack.dir().join("data")).unwrap();
    let report = attack.run();
    let dir_fds = [
        "/proc/self/fd/3",
        "/proc/self/fd/4",
        "/proc/1/fd/3",
        "/proc/1/fd/4",
    ];
    // The other fds — pipes to box, /dev/null, the probe's own listing — are no directories.
    for (start, result) in report.starting_with("walk /proc/") {
        if start.contains("/fd/") && !dir_fds.iter().any(|d| format!("walk {d}") == start) {
            assert!(
                result.ends_with(&format!("end=errno {}", libc::ENOTDIR))
                    || result.starts_with("open errno"),
                "{start}: {result}\n{}",
                report.text
            );
        }
    }
    assert_stayed_inside(
        &report,
        &[
            dir_fds[0],
            dir_fds[1],
            dir_fds[2],
            dir_fds[3],
            "/proc/self/root",
            "/proc/self/cwd",
            "/proc/1/root",
            "/proc/1/cwd",
            "/",
            ".",
            "/data",
        ],
    );
    let tmp = std::env::temp_dir();
    assert_absent(
        &[
            attack.dir(),
            &attack.dir().join("data"),
            &tmp,
            Path::new("/"),
        ],
        &new,
    );
}

#[test]
fn the_chroot_escape_stops_at_the_containers_root() {
    let new = escape_name();
    let attack = Attack::new("atk-chroot", &["/probe", "chroot", MARKER, &new], "");
    place_markers(&attack);
    let report = attack.run();
    // chroot is one of Docker's default capabilities: the escape itself works...
    report.assert_errno("chroot jail", 0);
    report.assert_errno("chroot .", 0);
    // ...and leads to the container's root, no further.
    let escaped = report.get("escaped /");
    assert!(
        escaped.starts_with("found=inside ") && escaped.ends_with(" end=top"),
        "{}",
        report.text
    );
    assert_absent(&[attack.dir(), &std::env::temp_dir(), Path::new("/")], &new);
}
