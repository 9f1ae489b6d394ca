//! `box completion SHELL` and `box man DIR`: generated from the command line itself.

use std::process::Command;

fn box_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_box"))
}

#[test]
fn completions_know_every_command_and_run_s_options() {
    for shell in ["bash", "zsh", "fish"] {
        let out = box_cmd().args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["run", "inspect", "cap-drop", "no-stream"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // bash itself accepts the script and registers it for `box`.
    let out = Command::new("bash")
        .args([
            "-c",
            &format!(
                "source <({} completion bash) && complete -p box",
                env!("CARGO_BIN_EXE_box")
            ),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("-F _box box"));
}

#[test]
fn a_man_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = box_cmd().arg("man").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    insta::assert_snapshot!(pages.join("\n"));
    let run = std::fs::read_to_string(dir.path().join("box-run.1")).unwrap();
    assert!(run.contains(".TH box-run"), "{run}");
    assert!(run.contains("\\-\\-cap\\-drop"), "{run}");
}
