//! Running the `box` binary for the cli's snapshot tests.

use std::process::Command;

/// Runs `box ARGS` in a fresh directory holding `files`, with a state root of its own (so that
/// `container:NAME` finds no container of the host's), and returns the exit code, stdout and
/// stderr as one text, with the directory's path replaced by `[DIR]`.
#[allow(dead_code)] // not every test file runs other commands than validate
pub fn run_box(args: &[&str], files: &[(&str, &str)]) -> String {
    run_box_with(args, files, |_| {})
}

/// [`run_box`], with `tweak` applied to the command first.
#[allow(dead_code)]
pub fn run_box_with(
    args: &[&str],
    files: &[(&str, &str)],
    tweak: impl FnOnce(&mut Command),
) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("make the file's directory");
        }
        std::fs::write(path, text).expect("write file");
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_box"));
    cmd.arg("--root")
        .arg(dir.path().join("state"))
        .args(args)
        .current_dir(dir.path());
    tweak(&mut cmd);
    let out = cmd.output().expect("run box");
    let text = format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let canonical = std::fs::canonicalize(dir.path()).expect("canonicalize");
    text.replace(&canonical.display().to_string(), "[DIR]")
        .replace(&dir.path().display().to_string(), "[DIR]")
}

/// `box validate box.toml` of `box_toml`, beside `files`.
#[allow(dead_code)] // not every test file validates
pub fn validate(box_toml: &str, files: &[(&str, &str)]) -> String {
    let mut all = vec![("box.toml", box_toml)];
    all.extend_from_slice(files);
    run_box(&["validate", "box.toml"], &all)
}
