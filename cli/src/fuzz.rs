//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), here so that an ordinary test
//! (`cli/tests/fuzz_corpus.rs`) replays the committed corpus without a fuzzer. Each takes any
//! bytes, must never panic, hang or eat memory, and asserts what must hold of its result: a
//! panic here is a bug in the parser it drives.

use std::path::Path;

use box_security::seccomp::{Arch, KernelVersion, Profile};
use box_security::{default_capabilities, CapSet};
use serde_json::Value;

use crate::config::{self, ConfigError};
use crate::template::Template;

/// The box.toml the fuzzer's text pretends to be. Its directory does not exist, so relative
/// paths in the text lead nowhere; absolute ones are looked at (stat, and a bounded read of a
/// seccomp profile), as `box validate` looks at them, never written.
const TOML_PATH: &str = "/nonexistent/box-fuzz/box.toml";

/// box.toml: parse and check (`box validate` without the state root: no container is running),
/// and every error renders as `FILE:LINE:COL: KEY: message` with the place inside the text.
pub fn box_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(TOML_PATH);
    // No store: an `image` key is an error naming it, as for a missing image.
    let host = config::Host {
        container_pid: &|_| None,
        images: &|_| Err("no image store when fuzzing".into()),
        state_dir: &|name| Path::new("/nonexistent/box-fuzz/state").join(name),
    };
    let checked =
        config::from_text(path, text.to_string()).and_then(|loaded| config::plan(&loaded, &host));
    match checked {
        Ok(plan) => {
            assert!(!plan.is_empty(), "a checked file defines a container");
            for planned in plan {
                // Containers of the file it joins resolve once those run.
                let _ = planned.resolve(&|_| Some(1));
            }
        }
        Err(e) => check_config_error(text, &e),
    }
}

fn check_config_error(text: &str, e: &ConfigError) {
    let rendered = e.to_string();
    assert!(rendered.starts_with(TOML_PATH), "{rendered}");
    assert!(!e.message.is_empty(), "{rendered}");
    if let Some(key) = &e.key {
        assert!(!key.is_empty(), "{rendered}");
    }
    if let Some((line, col)) = e.at {
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(
            (1..=lines.len()).contains(&line),
            "line {line} of {}: {rendered}",
            lines.len()
        );
        let width = lines[line - 1].chars().count();
        assert!(
            (1..=width + 1).contains(&col),
            "column {col} of a line of {width}: {rendered}"
        );
    }
}

/// The kernel version profiles are evaluated for: `minKernel` is compared against it.
const KERNEL: KernelVersion = KernelVersion { major: 6, minor: 1 };

/// seccomp JSON: parse, then compile for this host's architecture with no, Docker's and all
/// capabilities. A profile box compiles must give a program the kernel loads and that answers
/// every syscall the way the profile says (see `Profile::self_check`).
pub fn seccomp_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match Profile::from_json(text, "fuzz.json") {
        Ok(profile) => profile,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let Some(native) = Arch::native() else {
        return;
    };
    for caps in [CapSet::EMPTY, default_capabilities(), CapSet::all()] {
        match profile.self_check(caps, native, KERNEL) {
            Ok(None) => {}
            Ok(Some(problem)) => panic!("{caps:?}: {problem}"),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// `--format`: the bytes up to the first NUL are the template, the rest the JSON document it
/// renders (without a NUL, [`INSPECT_SAMPLE`]). Rendering either works or says why.
pub fn format_template(data: &[u8]) {
    let (template, doc) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, INSPECT_SAMPLE.as_bytes()),
    };
    let Ok(template) = std::str::from_utf8(template) else {
        return;
    };
    let Ok(doc) = serde_json::from_slice::<Value>(doc) else {
        return;
    };
    let parsed = match Template::parse(template) {
        Ok(parsed) => parsed,
        Err(e) => {
            assert!(e.to_string().starts_with("template: "), "{e}");
            return;
        }
    };
    if let Err(e) = parsed.render(&doc) {
        assert!(e.to_string().starts_with("template: "), "{e}");
    }
}

/// A document of the shape `box inspect` prints, for templates that bring none.
pub const INSPECT_SAMPLE: &str = r#"{
  "Name": "web",
  "Created": "2026-01-01T00:00:00Z",
  "State": {"Status": "running", "Running": true, "Pid": 4242, "MonitorPid": 4241,
            "ExitCode": null, "OOMKilled": false, "Error": null,
            "StartedAt": "2026-01-01T00:00:01Z", "FinishedAt": null},
  "Config": {"File": "/srv/web/box.toml",
             "Spec": {"name": "web", "process": {"args": ["/bin/sh", "-c", "echo hi"],
                      "env": ["PATH=/usr/bin:/bin", "A=b"], "cwd": "/", "tty": false}}},
  "Namespaces": [{"Kind": "net", "Container": 4026532200, "Host": 4026531840, "Shared": false},
                 {"Kind": "user", "Container": 4026531837, "Host": 4026531837, "Shared": true}],
  "Cgroup": {"Path": "box/web", "Limits": {"memory.max": "209715200", "pids.max": "128"}},
  "Security": {"CapEff": "00000000a80425fb", "CapBnd": "00000000a80425fb", "Seccomp": 2,
               "NoNewPrivs": false},
  "LogPath": "/run/box/web/log",
  "StateDir": "/run/box/web"
}"#;
