//! A workdir that names one of box's own fds, `/proc/self/fd/N`: in box.toml (through a link in
//! the image), with `box exec -w`, and in a running container that swapped its workdir for
//! such a link before a plain `box exec`. Were the link followed while box holds a host
//! directory fd (its cgroup directories, a namespace file), the command would start with its
//! cwd on the host, and `..` from there is the host's `/`. Each case must be refused, or run
//! with its cwd inside the container's root; and the host's secret stays unread.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::symlink;
use std::process::{Output, Stdio};

use box_tests::{busybox_rootfs, ok, stderr, stdout, Case, StateRoot};

use crate::secret::{HostSecret, UP};

/// What `busybox_rootfs` puts in the container's `/etc/marker`.
const INSIDE: &str = "inside the busybox root\n";

/// Every fd box could hold when it resolves the workdir, and then some.
const FDS: std::ops::RangeInclusive<i32> = 3..=20;

/// A busybox container (its root at `rootfs/`) with `workdir` and a shell running `script`.
fn busybox_case(prefix: &str, workdir: &str, script: &str) -> Case {
    let body = format!(
        "rootfs = \"rootfs\"\nworkdir = {workdir:?}\ncommand = [\"/bin/sh\", \"-c\", {script:?}]\n"
    );
    let case = Case::new(prefix, &body);
    busybox_rootfs(case.dir.path());
    case
}

/// Prints the container's marker when the cwd is inside its root (`..` stops at its `/`),
/// then attacks the host.
fn probe_script(secret: &HostSecret) -> String {
    format!("cat {UP}etc/marker; {}", secret.shell_attack())
}

/// box refused the workdir, saying which and why (Docker's 125); or it ran the command inside
/// the container's root. Returns whether it ran.
fn refused_or_inside(out: &Output, workdir: &str) -> bool {
    match out.status.code() {
        Some(125) => {
            let prefix = format!("box: workdir {workdir:?} in container: ");
            assert!(stderr(out).starts_with(&prefix), "{}", stderr(out));
            false
        }
        Some(0) => {
            assert!(
                stdout(out).starts_with(INSIDE),
                "cwd outside the root: {out:?}"
            );
            true
        }
        _ => panic!("neither refused nor run: {out:?}"),
    }
}

#[test]
fn a_workdir_linked_to_an_fd_of_box_stays_inside_the_root() {
    let secret = HostSecret::new();
    let mut ran = 0;
    for n in FDS {
        let case = busybox_case(&format!("wd-link{n}"), "/app", &probe_script(&secret));
        let root = case.dir.path().join("rootfs");
        symlink(format!("/proc/self/fd/{n}"), root.join("app")).unwrap();
        let out = case.up();
        secret.assert_untouched(&stdout(&out));
        ran += usize::from(refused_or_inside(&out, "/app"));
        case.assert_nothing_left();
    }
    eprintln!(
        "{ran} of {} ran inside the root, the rest were refused",
        FDS.count()
    );
}

#[test]
fn box_exec_w_an_fd_of_box_stays_inside_the_root() {
    let secret = HostSecret::new();
    let mut state = StateRoot::new();
    let case = busybox_case("wd-exec", "/", "exec sleep 1000");
    let name = state.up(&case);
    for n in FDS {
        let workdir = format!("/proc/self/fd/{n}");
        let out = state.run(&[
            "exec",
            "-w",
            &workdir,
            &name,
            "--",
            "/bin/sh",
            "-c",
            &probe_script(&secret),
        ]);
        secret.assert_untouched(&stdout(&out));
        refused_or_inside(&out, &workdir);
    }
}

#[test]
fn box_exec_w_needs_an_existing_directory_and_creates_none() {
    let mut state = StateRoot::new();
    let case = busybox_case("wd-missing", "/", "exec sleep 1000");
    let name = state.up(&case);
    for (workdir, why) in [
        ("/nowhere/new", "No such file or directory"),
        ("/etc/marker", "Not a directory"),
    ] {
        let out = state.run(&["exec", "-w", workdir, &name, "--", "/bin/true"]);
        assert_eq!(out.status.code(), Some(125), "{out:?}");
        assert_eq!(
            stderr(&out),
            format!("box: workdir {workdir:?} in container: {why}\n")
        );
    }
    assert!(!case.dir.path().join("rootfs/nowhere").exists());
    let out = state.run(&["exec", "-w", "/etc", &name, "--", "/bin/pwd"]);
    assert_eq!(ok(&out), "/etc\n");
}

#[test]
fn a_workdir_swapped_for_an_fd_link_gives_box_exec_no_host_cwd() {
    let secret = HostSecret::new();
    let mut state = StateRoot::new();
    let case = busybox_case("wd-swap", "/app", "exec sleep 1000");
    let name = state.up(&case);
    for n in FDS {
        let swap = format!("rm -rf /app && ln -s /proc/self/fd/{n} /app");
        ok(&state.run(&["exec", "-w", "/", &name, "--", "/bin/sh", "-c", &swap]));
        // A plain `box exec` (cwd: the container's workdir, now the link) that stays running,
        // so that others can follow its /proc/PID/cwd.
        let script = format!("cat {UP}etc/marker; echo started; exec sleep 1000");
        let mut held = state
            .cmd(&["exec", &name, "--", "/bin/sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start box exec");
        let mut lines = BufReader::new(held.stdout.take().expect("stdout")).lines();
        match lines.next().transpose().expect("read box exec") {
            Some(first) => {
                assert_eq!(format!("{first}\n"), INSIDE, "cwd outside the root");
                assert_eq!(
                    lines.next().transpose().unwrap().as_deref(),
                    Some("started")
                );
                // Everyone else in the container now walks from every process's cwd.
                let out = state.run(&[
                    "exec",
                    "-w",
                    "/",
                    &name,
                    "--",
                    "/bin/sh",
                    "-c",
                    &secret.shell_attack(),
                ]);
                secret.assert_untouched(&ok(&out));
                // SAFETY: kill only signals the box process this test started.
                unsafe { libc::kill(held.id() as i32, libc::SIGKILL) };
                held.wait().expect("wait for box exec");
            }
            None => {
                let out = held.wait_with_output().expect("wait for box exec");
                assert_eq!(out.status.code(), Some(125), "{out:?}");
                assert!(
                    stderr(&out).starts_with("box: workdir \"/app\" in container: "),
                    "{}",
                    stderr(&out)
                );
            }
        }
        secret.assert_untouched("");
    }
}
