//! What the bundle says that box honours beyond the basics, driven through box-runc directly
//! and read back from the kernel: real-time signals, CPU periods, hugetlb, generic mounts,
//! `--no-pivot`, createContainer hooks, `events`.

use serde_json::json;

use crate::direct::{status_field, Bundle, LIMIT};
use crate::support::{expect_code, wait_for};

/// Whether `pid`'s handler for signal `n` is installed (`SigCgt`, a hex mask of bit n-1).
fn catches(pid: i32, n: u32) -> bool {
    status_field(pid, "SigCgt")
        .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
        .is_some_and(|mask| mask & (1 << (n - 1)) != 0)
}

#[test]
fn kill_sends_real_time_signals_by_name_and_number() {
    let b = Bundle::new("rtsig", |c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "trap 'echo 37 >> /got' 37; trap 'echo 62 >> /got' 62; \
             trap 'echo 50 >> /got; exit 5' 50; while true; do sleep 0.05; done"
        ]);
    });
    let pid = b.create("rt1");
    expect_code(&b.runc(&["start", "rt1"]), 0);
    wait_for("the traps", LIMIT, || {
        [37, 62, 50].iter().all(|&n| catches(pid, n))
    });
    let got = b.scratch.rootfs.join("got");
    let read = || std::fs::read_to_string(&got).unwrap_or_default();
    expect_code(&b.runc(&["kill", "rt1", "RTMIN+3"]), 0);
    wait_for("RTMIN+3", LIMIT, || read() == "37\n");
    expect_code(&b.runc(&["kill", "rt1", "SIGRTMAX-2"]), 0);
    wait_for("SIGRTMAX-2", LIMIT, || read() == "37\n62\n");
    expect_code(&b.runc(&["kill", "rt1", "50"]), 0);
    wait_for("stopped", LIMIT, || b.state("rt1")["status"] == "stopped");
    assert_eq!(read(), "37\n62\n50\n");
    // Past the kernel's range, or no such name: refused, the container untouched.
    for bad in ["RTMAX+1", "65", "RTMIN+31"] {
        let out = b.runc(&["kill", "rt1", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
    }
    expect_code(&b.runc(&["delete", "rt1"]), 0);
}

#[test]
fn cpu_period_and_realtime_period_are_written_and_updated() {
    // Realtime group scheduling is v1's: on a pure cgroup2 host it is refused (below).
    let v1 = std::path::Path::new("/sys/fs/cgroup/cpu/cpu.rt_period_us").exists();
    let b = Bundle::new("cpuper", |c| {
        c["process"]["args"] = json!(["sleep", "1000"]);
        c["linux"]["resources"]["cpu"] = json!({"quota": 25000, "period": 50000});
        if v1 {
            c["linux"]["resources"]["cpu"]["realtimePeriod"] = json!(500000);
        }
    });
    let id = "cpuper";
    b.create(id);
    let value = |names: &[&str]| b.scratch.cgroup_value(id, names);
    let bandwidth = || {
        let v1 = (
            value(&["cpu.cfs_quota_us", "cpu.max"]),
            value(&["cpu.cfs_period_us", "cpu.max"]),
        );
        match v1.0.split_once(' ') {
            // cgroup2: "QUOTA PERIOD" in one file.
            Some((q, p)) => (q.to_string(), p.to_string()),
            None => v1,
        }
    };
    assert_eq!(bandwidth(), ("25000".into(), "50000".into()));
    if v1 {
        assert_eq!(value(&["cpu.rt_period_us"]), "500000");
    }
    // A new period alone keeps the quota's µs, as runc's update does.
    expect_code(&b.runc(&["update", "--cpu-period", "200000", id]), 0);
    assert_eq!(bandwidth(), ("25000".into(), "200000".into()));
    expect_code(&b.runc(&["update", "--cpu-quota", "100000", id]), 0);
    assert_eq!(bandwidth(), ("100000".into(), "200000".into()));
    let rt = b.runc(&["update", "--cpu-rt-period", "250000", id]);
    if v1 {
        expect_code(&rt, 0);
        assert_eq!(value(&["cpu.rt_period_us"]), "250000");
    } else {
        assert_eq!(rt.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&rt.stderr).contains("cgroup2 has no"));
    }
    // Out of the kernel's range: refused, the limit unchanged.
    let out = b.runc(&["update", "--cpu-period", "999", id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cpu_period"));
    assert_eq!(bandwidth(), ("100000".into(), "200000".into()));
    expect_code(&b.runc(&["delete", "--force", id]), 0);
}

#[test]
fn unified_files_whose_controller_is_not_on_cgroup2_are_refused_by_key() {
    // On a hybrid host memory is v1's; on a pure v2 host pick a controller it lacks.
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers")
        .or_else(|_| std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers"))
        .unwrap_or_default();
    let key = if controllers.split_whitespace().any(|c| c == "memory") {
        "rdma.max"
    } else {
        "memory.high"
    };
    let b = Bundle::new("unified", |c| {
        c["linux"]["resources"]["unified"] = json!({ key: "max" });
    });
    let out = b.runc_create(&["create", "--bundle", b.dir().to_str().unwrap(), "uni1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unified") && err.contains(key), "{err}");
    assert!(!b.root.join("uni1").exists());
    assert!(b
        .scratch
        .cgroup_dirs()
        .iter()
        .all(|d| !d.ends_with("unified")));

    // A huge page size the host lacks is refused by name too.
    let b = Bundle::new("hugebad", |c| {
        c["linux"]["resources"]["hugepageLimits"] = json!([{"pageSize": "3MB", "limit": 0}]);
    });
    let out = b.runc_create(&["create", "--bundle", b.dir().to_str().unwrap(), "huge1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hugetlb") && err.contains("3MB"), "{err}");
    assert!(!b.root.join("huge1").exists());
}

#[test]
fn a_slice_form_cgroups_path_without_systemd_is_a_name() {
    let name = format!("boxtest.slice:slice:{}", std::process::id());
    let b = Bundle::new("slice", |c| {
        c["process"]["args"] = json!(["sleep", "1000"]);
        c["linux"]["cgroupsPath"] = json!(name.clone());
    });
    let pid = b.create("slice1");
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cgroup.contains(&format!(":/box/oci/{name}\n")), "{cgroup}");
    expect_code(&b.runc(&["delete", "--force", "slice1"]), 0);
    let dirs = crate::support::hierarchy_roots();
    assert!(
        dirs.iter()
            .all(|root| !root.join("box/oci").join(&name).exists()),
        "the cgroup is gone"
    );
}
