//! Names on the command line cannot walk out of the state root. The victim is the real state
//! of a stopped container, copied beside the root: with a name like `../victim`, `box rm`
//! would once have deleted it and `box logs` printed its log.

use std::path::Path;

use box_tests::{ok, stderr, Case, StateRoot};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn names_that_leave_the_state_root_are_refused_and_touch_nothing() {
    let mut root = StateRoot::new();
    let case = Case::new(
        "attack-names",
        r#"command = ["/bin/sh", "-c", "echo secret of the victim"]"#,
    );
    let name = root.up(&case);
    assert_eq!(ok(&root.run(&["wait", &name])).trim(), "0");
    // A second directory beside the root, holding a container's state: lock, state.json, log.
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    copy_dir(&root.dir.path().join(&name), &victim);
    let relative = Path::new("..")
        .join(outside.path().file_name().unwrap())
        .join("victim");
    assert!(
        root.dir.path().join(&relative).join("state.json").is_file(),
        "the relative name reaches the victim"
    );
    let relative = relative.to_str().unwrap();
    let absolute = victim.to_str().unwrap();
    for name in [relative, absolute] {
        for args in [
            vec!["rm", name],
            vec!["rm", "-f", name],
            vec!["logs", name],
            vec!["inspect", name],
            vec!["stop", name],
            vec!["kill", name],
            vec!["wait", name],
            vec!["exec", name, "--", "/bin/true"],
            vec!["ns", name],
        ] {
            let out = root.run(&args);
            assert_eq!(out.status.code(), Some(1), "box {args:?}");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("invalid container name {name:?}")),
                "box {args:?}: {err}"
            );
            assert!(
                !err.contains("secret") && !String::from_utf8_lossy(&out.stdout).contains("secret")
            );
            for file in ["lock", "state.json", "log"] {
                assert!(victim.join(file).is_file(), "box {args:?} removed {file}");
            }
        }
    }
    assert_eq!(
        std::fs::read_to_string(victim.join("log")).unwrap(),
        "secret of the victim\n"
    );
}
