//! `events`: statistics read back against the cgroup's own files, the stream and its OOM
//! event, and its end when the container stops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::direct::{Bundle, LIMIT};
use crate::support::{box_runc, expect_code, text, wait_for};

#[test]
fn events_stats_once_and_a_stream_with_an_oom_event_until_the_container_stops() {
    let b = Bundle::new("events", |c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "while [ ! -e /go ]; do sleep 0.05; done; tail /dev/zero > /dev/null; \
             touch /survived; sleep 1000"
        ]);
        c["linux"]["resources"]["memory"] = json!({"limit": 33554432, "swap": 33554432});
        c["linux"]["resources"]["pids"] = json!({"limit": 20});
    });
    let id = "ev1";
    b.create(id);
    expect_code(&b.runc(&["start", id]), 0);

    let out = b.runc(&["events", "--stats", id]);
    expect_code(&out, 0);
    let event: Value = serde_json::from_str(&text(&out)).unwrap();
    assert_eq!(event["type"], "stats");
    assert_eq!(event["id"], id);
    let data = &event["data"];
    assert_eq!(data["memory"]["usage"]["limit"], 33554432);
    assert_eq!(data["pids"]["limit"], 20);
    // What the kernel counts: the shell waiting, maybe its sleep (1 or 2 tasks).
    let current = data["pids"]["current"].as_u64().unwrap();
    assert!((1..=2).contains(&current), "{data}");
    assert!(
        data["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
        "{data}"
    );
    assert!(data["cpu"]["usage"]["total"].as_u64().is_some(), "{data}");

    let mut stream = Command::new(box_runc())
        .arg("--root")
        .arg(&b.root)
        .args(["events", "--interval", "100ms", id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(stream.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["type"], "stats");
    // tail outgrows the container's 32 MiB: the kernel OOM-kills it, the stream says so. tail
    // alone, no writer into a pipe beside it: a writer that charges a page while the killed
    // tail's memory is not yet uncharged makes a second OOM, whose victim is the shell (seen
    // once in CI, on this kernel).
    std::fs::write(b.scratch.rootfs.join("go"), "").unwrap();
    let mut seen = Vec::new();
    loop {
        let e = next();
        if e["type"] == "oom" {
            assert_eq!(e["id"], id);
            break;
        }
        assert_eq!(e["type"], "stats");
        seen.push(e);
        assert!(
            seen.len() < 600,
            "no oom event in {} stats events",
            seen.len()
        );
    }
    wait_for("the shell to go on", LIMIT, || {
        b.scratch.rootfs.join("survived").exists()
    });
    // The container stops: the stream ends by itself.
    expect_code(&b.runc(&["kill", id, "KILL"]), 0);
    let status = stream.wait().unwrap();
    assert!(status.success(), "{status}");
    expect_code(&b.runc(&["delete", id]), 0);
    // Gone: refused.
    assert_eq!(b.runc(&["events", "--stats", id]).status.code(), Some(1));
}

#[test]
fn checkpoint_restore_and_a_caller_who_is_not_root_are_refused_clearly() {
    let b = Bundle::new("refused", |_| {});
    for args in [
        &["checkpoint", "--image-path", "/x", "c1"][..],
        &["restore", "--image-path", "/x", "c1"],
    ] {
        let out = b.runc(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("CRIU"), "{err}");
    }
    let out = crate::support::run(
        std::os::unix::process::CommandExt::uid(
            Command::new(box_runc()).args(["--root", "/nonexistent", "list"]),
            65534,
        ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("runs as root"), "{err}");
}
