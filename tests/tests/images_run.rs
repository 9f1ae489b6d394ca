//! Containers on images end to end: `box pull` from a registry the test starts, then `box up`
//! of `image = "HOST/…"`: the image's process and user, box.toml's precedence, errors naming
//! the key, a pull by `box up`, the image's stop signal, a shell on a terminal; nothing left
//! on the host afterwards (no state, no upper directory, no cgroup, no overlay mount). The
//! overlay root itself: images_overlay.rs.

#[allow(dead_code)] // shared with images_overlay.rs
#[path = "images/run_support.rs"]
mod run_support;
#[allow(dead_code)] // shared with images.rs, which uses all of it
#[path = "images/support.rs"]
mod support;

use std::process::{Command, Stdio};

use box_tests::{box_bin, ok, on_a_terminal, stderr, unique_name};
use run_support::*;
use support::{busybox_layer, Env};

#[test]
fn box_up_runs_the_images_cmd_as_its_user_on_an_overlay_root() {
    let env = Env::new();
    let (image, tars) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let layers: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    let name = unique_name("img-cmd");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    let out = up(&env, &[], &f);
    assert_eq!(
        ok(&out),
        "cmd\n1000\n1000\n1000 50\n/opt/work\n/home/app hello\ninside the busybox root\n"
    );
    assert_eq!(stderr(&out), "", "found in the store, not pulled again");
    let after: Vec<Vec<String>> = tars.iter().map(|t| snapshot(&env.layer_dir(t))).collect();
    assert_eq!(
        layers, after,
        "the layers are untouched (the workdir went to the upper)"
    );
    assert_nothing_left(&env, &name);
}

#[test]
fn box_toml_overrides_the_image_by_dockers_rules() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    // command replaces Cmd; env, user and workdir replace the image's.
    let name = unique_name("img-over");
    let f = file(
        &env,
        &name,
        &format!(
            "image = \"{reference}\"\ncommand = [\"sh\", \"-c\", \"echo $GREETING $HOME; id -un; pwd\"]\nuser = \"root\"\nworkdir = \"/tmp\"\n[env]\nGREETING = \"bye\"\n"
        ),
    );
    assert_eq!(ok(&up(&env, &[], &f)), "bye /root\nroot\n/tmp\n");
    assert_nothing_left(&env, &name);

    // An entrypoint: `command` is its arguments; a new entrypoint drops the image's Cmd.
    let run = serde_json::json!({"Entrypoint": ["/bin/echo", "ep"], "Cmd": ["from-cmd"]});
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "ep", &image);
    for (body, expected) in [
        ("", "ep from-cmd\n"),
        ("command = [\"given\"]\n", "ep given\n"),
        ("entrypoint = [\"/bin/echo\", \"new\"]\n", "new\n"),
        (
            "entrypoint = [\"/bin/echo\", \"new\"]\ncommand = [\"args\"]\n",
            "new args\n",
        ),
    ] {
        let name = unique_name("img-ep");
        let f = file(&env, &name, &format!("image = \"{reference}\"\n{body}"));
        assert_eq!(ok(&up(&env, &[], &f)), expected, "{body}");
        assert_nothing_left(&env, &name);
    }
}

#[test]
fn image_and_rootfs_together_or_a_missing_image_are_errors_naming_the_key() {
    let env = Env::new();
    let name = unique_name("img-both");
    let f = file(&env, &name, "image = \"busybox\"\nrootfs = \"/tmp\"\n");
    let out = up(&env, &[], &f);
    assert_eq!(out.status.code(), Some(125));
    let shown = |out: &std::process::Output| {
        stderr(out)
            .replace(&f.display().to_string(), "FILE")
            .replace(&env.store().display().to_string(), "STORE")
    };
    insta::assert_snapshot!(shown(&out), @"box: FILE:2:1: image: a container runs on an image or on a rootfs, not both: drop one of the two keys");
    // Not in the store: `box validate` says how to get it (`box up` would pull it).
    let f = file(&env, &name, "image = \"localhost:1/none:1\"\n");
    let out = env.run(&["validate", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125));
    insta::assert_snapshot!(shown(&out), @"box: FILE:2:1: image: no such image in the store STORE: `box up` pulls it, or run `box pull localhost:1/none:1`");
    assert_nothing_left(&env, &name);
}

#[test]
fn box_up_pulls_an_image_the_store_lacks() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    env.registry.push("app", "auto", &image);
    let reference = format!("{}/app:auto", env.registry.host());
    let name = unique_name("img-pull");
    let f = file(
        &env,
        &name,
        &format!("image = \"{reference}\"\nuser = \"0\"\ncommand = [\"cat\", \"/opt/data\"]\n"),
    );
    let out = up(&env, &[], &f);
    assert_eq!(ok(&out), "from the image\n");
    assert!(
        stderr(&out).contains("not in the store, pulling it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.images().len(), 1);
    assert_nothing_left(&env, &name);
}

/// `box stop` sends the image's StopSignal first: PID 1 handles SIGUSR1 (and, as PID 1 of its
/// namespace, ignores an unhandled SIGTERM, which would end only with SIGKILL's 137).
#[test]
fn box_stop_sends_the_images_stop_signal() {
    let env = Env::new();
    let run = serde_json::json!({
        "Cmd": ["/bin/sh", "-c", "trap 'exit 42' USR1; touch /ready; while :; do sleep 0.05; done"],
        "StopSignal": "SIGUSR1",
    });
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "stop", &image);
    let name = unique_name("img-stop");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    assert_eq!(ok(&up(&env, &["-d"], &f)), format!("{name}\n"));
    wait_for(&env.root().join(&name).join("overlay/upper/ready"));
    ok(&env.run(&["stop", "-t", "30", &name]));
    let code = ok(&env.run(&["inspect", "--format", "{{.State.ExitCode}}", &name]));
    assert_eq!(code.trim(), "42", "the trap ran: SIGUSR1 came first");
    ok(&env.run(&["rm", &name]));
    assert_nothing_left(&env, &name);
}

#[test]
fn box_up_t_on_an_ubuntu_like_image_gets_a_shell() {
    let env = Env::new();
    let run = serde_json::json!({"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]});
    let (image, _) = app_image(&env, run);
    let reference = pulled(&env, "shell", &image);
    let name = unique_name("img-tty");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    // script(1) gives box a real terminal, as `docker run -it ubuntu` from a shell has.
    let inner = format!(
        "{} --store {} --root {} up -t {}",
        box_bin().display(),
        env.store().display(),
        env.root().display(),
        f.display()
    );
    let out = on_a_terminal(
        &inner,
        b"test -t 0 && echo tty-$(id -u)-$(cat /etc/marker | wc -c); exit 7\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tty-0-24"), "{text}");
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert_nothing_left(&env, &name);
}

/// The article's `docker run IMAGE` as `box run`: the image's Cmd as its user, and Docker's
/// options over the image's settings (`-u`, `-w`, `-e`, a command after the image).
#[test]
fn box_run_of_an_image_runs_its_cmd_and_takes_dockers_options() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let name = unique_name("img-run");
    let out = env.run(&["run", "--name", &name, &reference]);
    assert_eq!(
        ok(&out),
        "cmd\n1000\n1000\n1000 50\n/opt/work\n/home/app hello\ninside the busybox root\n"
    );
    assert_nothing_left(&env, &name);
    let name = unique_name("img-run-opts");
    let out = env.run(&[
        "run",
        "--name",
        &name,
        "-u",
        "root",
        "-w",
        "/tmp",
        "-e",
        "GREETING=bye",
        &reference,
        "sh",
        "-c",
        "echo $GREETING; id -un; pwd",
    ]);
    assert_eq!(ok(&out), "bye\nroot\n/tmp\n");
    assert_nothing_left(&env, &name);
}

/// `box ps` shows what each container runs on, as `docker ps`'s IMAGE: the image as it was
/// named (a reference, a short ID), the directory of a `rootfs` container.
#[test]
fn box_ps_shows_the_image_as_it_was_named() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "1", &image);
    let id = env.images()[0]["ID"].as_str().unwrap().to_string();
    let short = id.trim_start_matches("sha256:")[..12].to_string();
    let names: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| unique_name(&format!("img-ps-{n}")))
        .collect();
    for (name, given) in names.iter().zip([&reference, &short]) {
        ok(&env.run(&["run", "-d", "--name", name, given, "sleep", "1000"]));
    }
    let dir = busybox_layer(&env);
    let f = file(
        &env,
        &names[2],
        &format!(
            "rootfs = {:?}\ncommand = [\"sleep\", \"1000\"]\n",
            dir.display()
        ),
    );
    ok(&up(&env, &["-d"], &f));
    let redact = |text: &str| {
        let mut text = text
            .replace(&env.registry.host(), "HOST")
            .replace(&short, "SHORT-ID")
            .replace(&dir.display().to_string(), "DIR");
        for (name, shown) in names.iter().zip(["A", "B", "C"]) {
            text = text.replace(name.as_str(), shown);
        }
        text
    };
    let table = ok(&env.run(&["ps"]));
    let cells: Vec<String> = table
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split("   ").map(str::trim).collect();
            let cells: Vec<&str> = cells.into_iter().filter(|c| !c.is_empty()).collect();
            // Name, image, status: the pid and the time change from run to run.
            redact(&cells[..3].join(" | "))
        })
        .collect();
    insta::assert_snapshot!(cells.join("\n"), @r"
    NAME | IMAGE | STATUS
    A | HOST/app:1 | running
    B | SHORT-ID | running
    C | DIR | running
    ");
    let template = ok(&env.run(&["ps", "--format", "{{.Name}} {{.Image}}"]));
    assert_eq!(redact(&template), "A HOST/app:1\nB SHORT-ID\nC DIR\n");
    for name in &names {
        ok(&env.run(&["rm", "-f", name]));
        assert_nothing_left(&env, name);
    }
}

/// `--store` and `--root` relative to the current directory, as a user types them: the
/// layers and the upper directory still make a valid overlay (box makes them absolute).
#[test]
fn relative_store_and_state_paths_work() {
    let env = Env::new();
    let (image, _) = app_image(&env, default_run());
    let reference = pulled(&env, "rel", &image);
    let name = unique_name("img-rel");
    let f = file(&env, &name, &format!("image = \"{reference}\"\n"));
    let out = Command::new(box_bin())
        .current_dir(env.dir.path())
        .args(["--store", "store", "--root", "state", "up"])
        .arg(&f)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(ok(&out).starts_with("cmd\n"), "{}", stderr(&out));
    assert_nothing_left(&env, &name);
}
