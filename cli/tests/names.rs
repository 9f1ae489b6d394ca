//! Names on the command line are checked by box.toml's `name` rule before any path is built
//! from them: `..`, `/` and absolute paths never reach the state root. A directory beside the
//! root that looks like a container's survives every command. (tests/tests/attacks/names.rs
//! does the same against a real container's state.)

use std::process::Command;

/// Runs every command against a state root `DIR/state` with a marker `DIR/x` beside it that
/// has what a container directory has; returns their outputs, `DIR` redacted.
fn run_all(commands: &[&[&str]]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("x");
    std::fs::create_dir(&marker).unwrap();
    for file in ["lock", "state.json", "log"] {
        std::fs::write(marker.join(file), "marker").unwrap();
    }
    let abs = marker.display().to_string();
    let mut text = String::new();
    for args in commands {
        let args: Vec<String> = args.iter().map(|a| a.replace("ABS", &abs)).collect();
        let out = Command::new(env!("CARGO_BIN_EXE_box"))
            .arg("--root")
            .arg(dir.path().join("state"))
            .args(&args)
            .output()
            .expect("run box");
        text.push_str(&format!(
            "$ box {}\nexit: {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        for file in ["lock", "state.json", "log"] {
            assert_eq!(
                std::fs::read_to_string(marker.join(file)).as_deref().ok(),
                Some("marker"),
                "box {args:?} touched {file} outside the root"
            );
        }
    }
    text.replace(&abs, "[DIR]/x")
}

#[test]
fn every_command_refuses_a_name_that_leaves_the_root() {
    insta::assert_snapshot!(run_all(&[
        &["rm", "../x"],
        &["rm", "-f", "ABS"],
        &["logs", "ABS"],
        &["logs", "-f", "../x"],
        &["inspect", "../x"],
        &["stop", "-t", "0", "../x"],
        &["kill", "../x"],
        &["wait", "../x"],
        &["exec", "../x", "--", "/bin/true"],
        &["ns", "../x"],
        &["ns", "host", "ABS"],
        &["stats", "../x"],
        &["rm", ".."],
        &["rm", ""],
    ]));
}

#[test]
fn one_bad_name_does_not_stop_the_others() {
    // As Docker does with several names: each is tried, the exit code says one failed.
    insta::assert_snapshot!(run_all(&[
        &["rm", "../x", "nope"],
        &["kill", "nope", "ABS"]
    ]));
}
