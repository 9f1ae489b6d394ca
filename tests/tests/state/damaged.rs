//! Entries whose record is damaged or was never finished: a running container whose
//! `state.json` is truncated, garbled or removed is still listed, holds its name, is stopped
//! and removed (item 2); a claim that never finished is listed and removable (item 5).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use box_tests::{ok, stderr, Case, StateRoot as Root};

use super::support::{assert_gone, cgroup_procs, gone, run, SLEEP};

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("stat").ino()
}

/// Starts a container, damages its record with `damage`, and checks every promise.
fn damaged_record_is_managed(prefix: &str, damage: fn(&Path)) {
    let mut root = Root::new();
    let name = root.up(&Case::new(prefix, SLEEP));
    let pid = root.pid(&name);
    let monitor: i32 = root.field(&name, "{{.State.MonitorPid}}").parse().unwrap();
    let dir = root.dir.path().join(&name);
    let (lock, log) = (inode(&dir.join("lock")), inode(&dir.join("log")));
    damage(&dir.join("state.json"));

    let ps = run(&root, &["ps", "-a"]);
    let row = ok(&ps)
        .lines()
        .find(|l| l.starts_with(&name))
        .map(str::to_string);
    assert!(row.is_some_and(|r| r.contains("damaged")), "{}", ok(&ps));
    assert!(stderr(&ps).contains("state.json"), "{}", stderr(&ps));
    assert!(
        ok(&run(&root, &["ps"])).contains(&name),
        "plain ps shows it: it runs"
    );
    assert_eq!(
        root.field(
            &name,
            "{{.State.Status}} {{.State.Pid}} {{.State.MonitorPid}}"
        ),
        format!("damaged {pid} {monitor}")
    );

    // The name stays taken, and the live container's files stay.
    let again_dir = tempfile::tempdir().unwrap();
    let file = again_dir.path().join("box.toml");
    std::fs::write(&file, format!("name = {name:?}\n{SLEEP}\n")).unwrap();
    let again = run(&root, &["up", "-d", file.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already in use"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        (inode(&dir.join("lock")), inode(&dir.join("log"))),
        (lock, log)
    );
    assert!(!gone(pid));

    assert_eq!(
        ok(&run(&root, &["stop", "-t", "1", &name])),
        format!("{name}\n")
    );
    assert!(gone(pid) && gone(monitor));
    assert_eq!(cgroup_procs(&name), Vec::<i32>::new());
    // Its monitor wrote the whole record again as it ended.
    assert_eq!(
        root.field(&name, "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    assert_eq!(ok(&run(&root, &["rm", &name])), format!("{name}\n"));
    assert_gone(&root, &name);
    root.names.clear();
}

#[test]
fn a_truncated_record_leaves_the_container_manageable() {
    damaged_record_is_managed("truncated", |p| std::fs::write(p, "").unwrap());
}

#[test]
fn a_garbled_record_leaves_the_container_manageable() {
    damaged_record_is_managed("garbled", |p| {
        std::fs::write(p, "{\"name\": \"garbage").unwrap()
    });
}

#[test]
fn a_removed_record_leaves_the_container_manageable() {
    damaged_record_is_managed("removed", |p| std::fs::remove_file(p).unwrap());
}

#[test]
fn rm_f_ends_a_container_whose_record_is_damaged() {
    let mut root = Root::new();
    let name = root.up(&Case::new("dmgrmf", SLEEP));
    let pid = root.pid(&name);
    std::fs::write(root.dir.path().join(&name).join("state.json"), "[").unwrap();
    let rm = run(&root, &["rm", &name]);
    assert!(!rm.status.success(), "plain rm of a running container");
    assert_eq!(ok(&run(&root, &["rm", "-f", &name])), format!("{name}\n"));
    assert!(gone(pid));
    assert_gone(&root, &name);
    root.names.clear();
}

#[test]
fn half_written_entries_are_listed_and_removed() {
    let mut root = Root::new();
    let names = ["t-empty-dir", "t-lock-and-tmp", "t-lock-only"];
    let dirs: Vec<_> = names.iter().map(|n| root.dir.path().join(n)).collect();
    for dir in &dirs {
        std::fs::create_dir(dir).unwrap();
    }
    // What a `box up` killed during its claim, or a claim on a full disk, could leave.
    std::fs::write(dirs[1].join("lock"), "").unwrap();
    std::fs::write(dirs[1].join("state.json.tmp-99999"), "{\"na").unwrap();
    std::fs::write(dirs[2].join("lock"), "").unwrap();
    let ps = ok(&run(&root, &["ps", "-a"]));
    for name in names {
        let row = ps.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        assert!(row.contains("damaged"), "{name}: {ps}");
    }
    // A new container takes such a name over.
    let case = Case::new("takeover", SLEEP);
    std::fs::create_dir(root.dir.path().join(&case.name)).unwrap();
    std::fs::write(root.dir.path().join(&case.name).join("lock"), "").unwrap();
    root.up(&case);
    let mut args = vec!["rm"];
    args.extend(names);
    assert_eq!(ok(&run(&root, &args)), format!("{}\n", names.join("\n")));
    for name in names {
        assert_gone(&root, name);
    }
}
