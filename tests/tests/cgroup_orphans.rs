//! A start is never failed by another box: not by its sweep, and not by its creating a cgroup
//! at the moment this start sweeps (the sweep is then skipped, yet an orphan holding this
//! start's own name is still removed).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use box_tests::{cgroup_mounts, ok, Case};

/// The directory `box/<name>` on one hierarchy box uses: pids on v1 (or hybrid), else the
/// cgroup2 root.
fn one_dir(name: &str) -> PathBuf {
    let mounts = cgroup_mounts();
    let mount = mounts
        .iter()
        .find(|m| m.ends_with("pids"))
        .or_else(|| {
            mounts
                .iter()
                .find(|m| m.join("cgroup.controllers").exists())
        })
        .expect("a pids or cgroup2 hierarchy");
    mount.join("box").join(name)
}

#[test]
fn an_orphan_of_the_same_name_goes_even_while_another_box_creates() {
    let case = Case::new("orphan-name", r#"command = ["/bin/true"]"#);
    // What a box killed with SIGKILL leaves: a directory nobody holds a lock on.
    let orphan = one_dir(&case.name);
    std::fs::create_dir_all(&orphan).unwrap();
    // Another box between its mkdir and its lock holds box/ shared: sweeps are skipped.
    let parent = orphan.parent().unwrap();
    let mut creator = Command::new("sh")
        .args([
            "-c",
            "exec 3<\"$1\"; flock -s 3; echo held; exec sleep 1000",
            "sh",
        ])
        .arg(parent)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(creator.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "held\n");

    let out = case.up();
    creator.kill().unwrap();
    creator.wait().unwrap();
    if !orphan.exists() {
        ok(&out);
    } else {
        let _ = std::fs::remove_dir(&orphan);
        panic!("the orphan is still there: {out:?}");
    }
    case.assert_nothing_left();
}
