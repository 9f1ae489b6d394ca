//! `createContainer` hooks: run by the container's init in its namespaces once its root is
//! built, before it is entered, the path resolved in the runtime's view; a failing or
//! overdue one fails `create` and leaves nothing behind.

use serde_json::{json, Value};

use crate::direct::Bundle;
use crate::support::{expect_code, mounts_below};

fn with_hooks(b: &Bundle, id: &str, hooks: Value) {
    let path = b.dir().join("config.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    c["hooks"] = json!({ "createContainer": hooks });
    c["linux"]["cgroupsPath"] = json!(b.cgroups_path(id));
    std::fs::write(&path, c.to_string()).unwrap();
}

#[test]
fn create_container_hooks_run_in_the_containers_mount_namespace_before_its_root_is_entered() {
    let b = Bundle::new("cchook", |c| {
        c["process"]["args"] = json!(["sleep", "1000"]);
    });
    let out = b.dir().join("out");
    std::fs::create_dir(&out).unwrap();
    let script = format!(
        "readlink /proc/self/ns/mnt > {o}/ns; cat /proc/self/mountinfo > {o}/mounts; \
         cat > {o}/state; echo $X > {o}/env",
        o = out.display()
    );
    with_hooks(
        &b,
        "cc1",
        json!([{"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["X=from-env"], "timeout": 30}]),
    );
    let pid = b.create("cc1");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    // The hook's mount namespace is the container's, not the host's.
    let container_ns = std::fs::read_link(format!("/proc/{pid}/ns/mnt")).unwrap();
    let host_ns = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_eq!(read("ns").trim(), container_ns.to_str().unwrap());
    assert_ne!(container_ns, host_ns);
    // It saw the container's root at its host path, with the mounts box made in it.
    let rootfs = b.scratch.rootfs.canonicalize().unwrap();
    let proc_at = format!("{}/proc", rootfs.display());
    let mounts = read("mounts");
    assert!(
        mounts
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(&proc_at) && l.contains(" - proc ")),
        "no proc at {proc_at} in\n{mounts}"
    );
    let state: Value = serde_json::from_str(&read("state")).unwrap();
    assert_eq!(state["id"], "cc1");
    assert_eq!(state["status"], "creating");
    assert_eq!(state["pid"], pid);
    assert_eq!(read("env").trim(), "from-env");
    // Shown to the hook only: nothing of it on the host.
    assert_eq!(mounts_below(b.dir()), Vec::<String>::new());
    assert_eq!(b.state("cc1")["status"], "created");
    expect_code(&b.runc(&["delete", "--force", "cc1"]), 0);
}

#[test]
fn a_failing_or_overdue_create_container_hook_fails_create_and_leaves_nothing() {
    let b = Bundle::new("ccfail", |c| {
        c["process"]["args"] = json!(["sleep", "1000"]);
    });
    for (id, hook, says) in [
        (
            "ccf1",
            json!([{"path": "/bin/sh", "args": ["sh", "-c", "echo no way >&2; exit 3"]}]),
            "createContainer hook /bin/sh: failed (exit status 3): no way",
        ),
        (
            "ccf2",
            json!([{"path": "/bin/sleep", "args": ["sleep", "1000"], "timeout": 1}]),
            "createContainer hook /bin/sleep: timed out after 1s",
        ),
        (
            "ccf3",
            json!([{"path": "/nonexistent/hook"}]),
            "createContainer hook /nonexistent/hook: failed (exit status 127)",
        ),
    ] {
        with_hooks(&b, id, hook);
        let pid_file = b.dir().join(format!("{id}.pid"));
        let out = b.runc_create(&[
            "create",
            "--bundle",
            b.dir().to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            id,
        ]);
        assert_eq!(out.status.code(), Some(1), "{id}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{id}: {err}");
        assert!(!b.root.join(id).exists(), "{id}: state left");
        assert!(!pid_file.exists(), "{id}: pid file written");
        assert!(
            b.scratch.cgroup_dirs().iter().all(|d| !d.ends_with(id)),
            "{id}: cgroup left: {:?}",
            b.scratch.cgroup_dirs()
        );
        assert_eq!(mounts_below(b.dir()), Vec::<String>::new());
    }
    crate::support::no_box_runc_left(&crate::support::box_runc(), b.dir(), &[]);
}
