//! A container that is still starting (claimed, its monitor not yet done): it is `created`,
//! never `dead`; it holds its name; `stop`, `kill` and `rm -f` end it and never say so while
//! it runs (items 1 and 6).

use box_tests::{ok, stderr, stdout, Case, StateRoot as Root};

use super::support::{assert_gone, cgroup_procs, finish, gone, run, spawn, Frozen, SLEEP};

#[test]
fn a_starting_container_is_created_and_holds_its_name() {
    let mut root = Root::new();
    let case = Case::new("starting", SLEEP);
    let frozen = Frozen::new(&root, &case);
    root.names.push(case.name.clone());
    let ps = ok(&run(&root, &["ps", "-a"]));
    let row = ps
        .lines()
        .find(|l| l.starts_with(&case.name))
        .unwrap_or_default();
    assert!(row.contains("created"), "{ps}");
    assert_eq!(
        ok(&run(
            &root,
            &[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.MonitorPid}}",
                &case.name
            ]
        )),
        format!("created {}\n", frozen.monitor)
    );
    let again = run(&root, &["up", "-d", case.file().to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already in use by a container (created)"),
        "{}",
        stderr(&again)
    );
    let rm = run(&root, &["rm", &case.name]);
    assert!(!rm.status.success());
    assert!(stderr(&rm).contains("is created"), "{}", stderr(&rm));
    assert!(root.dir.path().join(&case.name).join("state.json").exists());
    frozen.thaw();
    assert_eq!(
        ok(&finish(frozen.up, "box up -d")),
        format!("{}\n", case.name)
    );
    assert_eq!(root.field(&case.name, "{{.State.Status}}"), "running");
}

#[test]
fn stop_and_kill_wait_for_a_starting_container_and_then_end_it() {
    let mut root = Root::new();
    for action in [&["stop", "-t", "1"][..], &["kill"]] {
        let case = Case::new("stopstart", SLEEP);
        let frozen = Frozen::new(&root, &case);
        root.names.push(case.name.clone());
        let waiter = spawn(&root, &["wait", &case.name]);
        let mut args = action.to_vec();
        args.push(&case.name);
        let acting = spawn(&root, &args);
        // Whether it looks before or after the start goes on, the answer must be the same.
        std::thread::sleep(std::time::Duration::from_millis(200));
        frozen.thaw();
        let acted = finish(acting, &args.join(" "));
        assert_eq!(ok(&acted), format!("{}\n", case.name), "{args:?}");
        let up = finish(frozen.up, "box up -d");
        assert_eq!(ok(&up), format!("{}\n", case.name));
        // SIGKILL, by kill or after stop's timeout (sleep ignores SIGTERM as PID 1).
        assert_eq!(ok(&finish(waiter, "box wait")), "137\n", "{args:?}");
        assert_eq!(cgroup_procs(&case.name), Vec::<i32>::new());
        assert!(gone(frozen.monitor));
        assert_eq!(
            root.field(&case.name, "{{.State.Status}} {{.State.ExitCode}}"),
            "exited 137"
        );
    }
}

#[test]
fn rm_f_of_a_starting_container_ends_its_monitor_and_leaves_nothing() {
    let root = Root::new();
    let case = Case::new("rmstart", SLEEP);
    let frozen = Frozen::new(&root, &case);
    let rm = run(&root, &["rm", "-f", &case.name]);
    assert_eq!(ok(&rm), format!("{}\n", case.name));
    assert!(gone(frozen.monitor), "the monitor survived rm -f");
    let up = finish(frozen.up, "box up -d");
    assert!(!up.status.success(), "{}", stdout(&up));
    assert!(
        stderr(&up).contains("ended before the container started"),
        "{}",
        stderr(&up)
    );
    assert_gone(&root, &case.name);
    assert_eq!(ok(&run(&root, &["ps", "-a"])).lines().count(), 1);
}

#[test]
fn box_up_d_killed_during_a_start_takes_the_start_along() {
    let root = Root::new();
    let case = Case::new("upkilled", SLEEP);
    let mut frozen = Frozen::new(&root, &case);
    frozen.up.kill().expect("kill box up -d");
    frozen.up.wait().expect("reap box up -d");
    // The monitor dies with it (a stopped process too: SIGKILL needs no scheduling).
    let start = std::time::Instant::now();
    while !gone(frozen.monitor) {
        assert!(
            start.elapsed().as_secs() < 10,
            "the monitor outlived box up -d"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let ps = ok(&run(&root, &["ps", "-a"]));
    assert!(ps.contains(&case.name) && ps.contains("dead"), "{ps}");
    assert_eq!(
        ok(&run(&root, &["rm", &case.name])),
        format!("{}\n", case.name)
    );
    assert_gone(&root, &case.name);
}
