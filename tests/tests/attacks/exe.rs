//! box's binary through `/proc/PID/exe` (runc's CVE-2019-5736). A `box exec` child sits in the
//! container's pid namespace, running box's binary, until it execs the command. A process of
//! the container watches `/proc` for it, stops it (SIGSTOP: even a short-lived process then
//! stays put), and opens its `/proc/PID/exe`, `cwd`, `root` and `fd/*`; once box is gone it
//! reopens any exe it got for writing through `/proc/self/fd/N`, which would overwrite box's
//! binary on the host. Until its security step the child holds capabilities the container
//! lacks, which alone denies those opens; from there to `execve` only its being non-dumpable
//! does. So the container runs with `no_new_privileges` (box then keeps no capability for
//! itself past that step), and the attacker stops and releases each box process until it
//! catches it in that last stretch: every open must fail with EACCES there too.
//!
//! The `box exec`s run a copy of box's binary, so that a successful attack could not break the
//! other tests; the copy's bytes are compared afterwards.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use box_tests::{box_bin, ok, Case, StateRoot};

use crate::secret::HostSecret;

fn scavenger() -> &'static str {
    env!("CARGO_BIN_EXE_box-scavenger")
}

/// `attack` lines of box processes the scavenger stopped once they held no capability the
/// container lacks.
fn caught_without_caps(report: &str) -> impl Iterator<Item = &str> {
    report
        .lines()
        .filter(|l| l.starts_with("attack ") && l.contains(" box stopped=true caps=container "))
}

#[test]
fn no_process_of_the_container_opens_box_exec_through_proc() {
    let secret = HostSecret::new();
    let copy_dir = tempfile::Builder::new()
        .prefix("boxcopy-")
        .tempdir()
        .unwrap();
    // Named "box": the scavenger tells box's processes by their name.
    let copy = copy_dir.path().join("box");
    std::fs::copy(box_bin(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = std::fs::read(&copy).unwrap();

    let (secret_path, created) = (secret.path(), secret.created());
    let command = [
        "/scavenger",
        "/tmp/stop",
        secret_path.to_str().unwrap(),
        created.to_str().unwrap(),
    ];
    // no_new_privileges: box then drops every capability the container lacks at its security
    // step, and only its being non-dumpable still protects it until it execs.
    let case = Case::new(
        "exe-scavenge",
        &format!(
            "command = {command:?}\n[security]\nno_new_privileges = true\n\
             [[mounts]]\ntype = \"bind\"\nsource = {:?}\ntarget = \"/scavenger\"\nreadonly = true\n",
            scavenger()
        ),
    );
    let mut state = StateRoot::new();
    let name = state.up(&case);
    // Until the scavenger has caught a few `box exec`s in that last stretch (it usually takes
    // one in ten or so), or for 90 s: the scavenger, the container's PID 1, gives up at 120 s,
    // and its end would kill the `box exec` in flight (a run of 300 once took that long).
    let hunt = std::time::Instant::now();
    while hunt.elapsed() < std::time::Duration::from_secs(90) {
        let out = Command::new(&copy)
            .arg("--root")
            .arg(state.dir.path())
            .args(["exec", &name, "--", "/bin/true"])
            .stdin(Stdio::null())
            .output()
            .expect("run the copy of box");
        ok(&out);
        let log = ok(&state.run(&["logs", &name]));
        if caught_without_caps(&log).count() >= 3 {
            break;
        }
    }
    ok(&state.run(&["exec", &name, "--", "/bin/touch", "/tmp/stop"]));
    let waited = state.run(&["wait", &name]);
    let report = ok(&state.run(&["logs", &name]));
    assert_eq!(ok(&waited).trim(), "0", "{report}");

    assert!(
        caught_without_caps(&report).count() > 0,
        "the attack never caught a box exec stopped with no more capabilities than the \
         container's, before it exec'd:\n{report}"
    );
    let caught: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("attack ") && l.split(' ').nth(2) == Some("box"))
        .filter(|l| l.split(' ').nth(3) == Some("stopped=true"))
        .collect();
    for line in &caught {
        for field in line.split(' ').skip(5) {
            let (what, errno) = field.split_once('=').unwrap();
            assert_eq!(
                errno, "13",
                "{what} of box: not EACCES in {line:?}\n{report}"
            );
        }
    }
    for success in ["WROTE", "READ", "CREATED"] {
        assert!(
            !report.lines().any(|l| l.starts_with(success)),
            "{success}:\n{report}"
        );
    }
    assert!(
        std::fs::read(&copy).unwrap() == before,
        "the host's box binary changed"
    );
    secret.assert_untouched(&report);
}
