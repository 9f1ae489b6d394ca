//! `create --no-pivot`: the root entered with MS_MOVE + chroot. The container's `/` is its
//! root, the host's mounts are gone from its view, and the classic chroot escape (with
//! CAP_SYS_CHROOT) and `..` walks from every fd and cwd stop at its root.

use std::path::Path;

use serde_json::json;

use crate::direct::Bundle;
use crate::support::{expect_code, mounts_below, text};

const MARKER: &str = "box-oci-nopivot-marker";

fn probe_bundle(args: &[&str]) -> Bundle {
    let b = Bundle::new("nopivot", |c| {
        c["process"]["args"] = json!(args);
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set]
                .as_array_mut()
                .unwrap()
                .push(json!("CAP_SYS_CHROOT"));
        }
    });
    let probe = env!("CARGO_BIN_EXE_box-probe");
    std::fs::copy(probe, b.scratch.rootfs.join("probe")).unwrap();
    box_tests::copy_libraries(Path::new(probe), &b.scratch.rootfs);
    std::fs::write(b.dir().join(MARKER), "outside\n").unwrap();
    std::fs::write(b.scratch.rootfs.join(MARKER), "inside\n").unwrap();
    b
}

fn run_no_pivot(b: &Bundle, id: &str) -> String {
    let dir = b.dir().to_str().unwrap();
    let out = b.runc(&["run", "--no-pivot", "--bundle", dir, id]);
    expect_code(&out, 0);
    assert_eq!(mounts_below(b.dir()), Vec::<String>::new());
    text(&out)
}

fn line<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key:?} in {report}"))
}

#[test]
fn no_pivot_root_is_the_containers_and_the_chroot_escape_stays_inside() {
    let new = format!("box-oci-nopivot-new-{}", std::process::id());
    let b = probe_bundle(&["/probe", "chroot", MARKER, &new]);
    let report = run_no_pivot(&b, "np1");
    assert_eq!(line(&report, "chroot jail"), "0", "{report}");
    assert_eq!(line(&report, "chroot ."), "0", "{report}");
    let escaped = line(&report, "escaped /");
    assert!(
        escaped.starts_with("found=inside ") && escaped.ends_with(" end=top"),
        "{report}"
    );
    for dir in [b.dir(), Path::new("/"), Path::new("/tmp")] {
        assert!(!dir.join(&new).exists(), "made in {}", dir.display());
    }
}

#[test]
fn no_pivot_walks_from_every_fd_and_cwd_stop_at_the_root() {
    let new = format!("box-oci-nopivot-walk-{}", std::process::id());
    let b = probe_bundle(&[
        "sh",
        "-c",
        &format!("/probe walk {MARKER} {new}; echo mountinfo:; cat /proc/self/mountinfo"),
    ]);
    let report = run_no_pivot(&b, "np2");
    let (walks, mountinfo) = report.split_once("mountinfo:\n").unwrap();
    let mut walked = 0;
    for l in walks.lines().filter(|l| l.starts_with("walk ")) {
        assert!(!l.contains("outside"), "escaped: {l}\n{report}");
        walked += 1;
    }
    assert!(walked > 3, "{report}");
    assert!(
        line(walks, "walk /").starts_with("found=inside "),
        "{report}"
    );
    // The container's root is `/` in its own view.
    let points: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    assert!(points.contains(&"/"), "{mountinfo}");
    for dir in [b.dir(), Path::new("/"), Path::new("/tmp")] {
        assert!(!dir.join(&new).exists(), "made in {}", dir.display());
    }
}

#[test]
fn no_pivot_with_cap_sys_admin_setns_and_unmounting_root_still_see_the_containers_root() {
    // The known weakness of no-pivot: the host's root filesystem stays in the mount
    // namespace, covered. Entering that namespace again (setns lands on the topmost mount
    // on its root) and detaching `/` (the process keeps its root) both stay inside.
    let b = probe_bundle(&[
        "sh",
        "-c",
        &format!(
            "nsenter --mount=/proc/self/ns/mnt cat /{MARKER}; \
             umount -l / && cat /{MARKER}; ls / > /dev/null && echo listed"
        ),
    ]);
    let config = b.dir().join("config.json");
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    for set in ["bounding", "effective", "permitted"] {
        c["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SYS_ADMIN"));
    }
    std::fs::write(&config, c.to_string()).unwrap();
    let report = run_no_pivot(&b, "np3");
    assert_eq!(report, "inside\ninside\nlisted", "{report}");
}

/// Every mount of the mount namespace of `pid` but its root, as the kernel counts them
/// (listmount(2), Linux 6.11+ for another namespace: mountinfo shows only what the
/// process's root reaches, which would hide the host's mounts below a chroot).
fn mounts_in_namespace_of(pid: i32) -> usize {
    use std::os::fd::AsRawFd;
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/mnt")).unwrap();
    let mut ns_id: u64 = 0;
    const NS_GET_MNTNS_ID: libc::c_ulong = 0x8008_b705;
    // SAFETY: the ioctl writes one u64 into `ns_id`.
    let rc = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_MNTNS_ID, &mut ns_id) };
    assert_eq!(
        rc,
        0,
        "NS_GET_MNTNS_ID: {}",
        std::io::Error::last_os_error()
    );
    #[repr(C)]
    struct MntIdReq {
        size: u32,
        spare: u32,
        mnt_id: u64,
        param: u64,
        mnt_ns_id: u64,
    }
    const LSMT_ROOT: u64 = u64::MAX;
    const SYS_LISTMOUNT: libc::c_long = 458;
    let req = MntIdReq {
        size: std::mem::size_of::<MntIdReq>() as u32,
        spare: 0,
        mnt_id: LSMT_ROOT,
        param: 0,
        mnt_ns_id: ns_id,
    };
    let mut ids = vec![0u64; 4096];
    // SAFETY: `req` and `ids` are live and sized as the call is told.
    let n = unsafe { libc::syscall(SYS_LISTMOUNT, &req, ids.as_mut_ptr(), ids.len(), 0) };
    assert!(n >= 0, "listmount: {}", std::io::Error::last_os_error());
    n as usize
}

#[test]
fn no_pivot_detaches_every_host_mount_from_the_containers_namespace() {
    let b = probe_bundle(&["sleep", "1000"]);
    let dir = b.dir().to_str().unwrap();
    let pid_of = |id: &str, extra: &[&str]| -> i32 {
        let config = b.dir().join("config.json");
        let mut c: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        c["linux"]["cgroupsPath"] = json!(b.cgroups_path(id));
        std::fs::write(&config, c.to_string()).unwrap();
        let pid_file = b.dir().join(format!("{id}.pid"));
        let mut args = vec![
            "create",
            "--bundle",
            dir,
            "--pid-file",
            pid_file.to_str().unwrap(),
        ];
        args.extend(extra);
        args.push(id);
        expect_code(&b.runc_create(&args), 0);
        std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let pivoted = mounts_in_namespace_of(pid_of("np4", &[]));
    let moved = mounts_in_namespace_of(pid_of("np5", &["--no-pivot"]));
    let host = mounts_in_namespace_of(std::process::id() as i32);
    // The same container's mounts, plus the staging tmpfs and the root's own mount, which
    // cover the host's root filesystem; none of the host's others.
    assert!(host > pivoted + 2, "host {host}, container {pivoted}");
    assert_eq!(
        moved,
        pivoted + 2,
        "no-pivot {moved}, pivot {pivoted}, host {host}"
    );
    for id in ["np4", "np5"] {
        expect_code(&b.runc(&["delete", "--force", id]), 0);
    }
    assert_eq!(mounts_below(b.dir()), Vec::<String>::new());
}
