//! The fuzz targets' committed corpus (`fuzz/corpus/TARGET/`), replayed through the same
//! bodies the fuzzer runs (`box_cli::fuzz`), so a regression of a crash once found fails
//! `cargo test` without a fuzzer.

use std::path::PathBuf;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{}: only {} inputs",
        dir.display(),
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).unwrap();
        eprintln!("{}", file.display());
        body(&data);
    }
}

#[test]
fn box_toml_corpus() {
    replay("box_toml", box_cli::fuzz::box_toml);
}

#[test]
fn seccomp_json_corpus() {
    replay("seccomp_json", box_cli::fuzz::seccomp_json);
}

#[test]
fn format_template_corpus() {
    replay("format_template", box_cli::fuzz::format_template);
}
