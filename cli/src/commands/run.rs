//! `box run`: the options as a box.toml (`box_cli::run`), then what `box up` does with one
//! container, in the foreground or detached.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::PathBuf;

use box_cli::run::{pseudo_path, translate, Caller, RunArgs};
use box_launcher::exit_code::CANNOT_START;

use crate::state::Root;

pub fn run(root: &Root, store: Option<PathBuf>, args: &RunArgs) -> i32 {
    match start(root, store, args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("box: {message}");
            CANNOT_START
        }
    }
}

fn start(root: &Root, store: Option<PathBuf>, args: &RunArgs) -> Result<i32, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("run: the current directory: {e}"))?;
    let env = |key: &str| std::env::var(key).ok();
    let caller = Caller {
        env: &env,
        cwd: &cwd,
    };
    let translated = translate(args, &caller).map_err(|e| e.to_string())?;
    // An image missing from the store is pulled, as `box up` does; not for --dry-run.
    let pull = !args.dry_run;
    let host = crate::config::Host {
        container_pid: &|name| super::container_pid(root, name),
        images: &|reference| super::image::resolve(store.clone(), reference, pull),
        state_dir: &|name| root.container_dir(name),
    };
    let planned = translated.plan(&cwd, &host).map_err(|e| e.to_string())?;
    if args.dry_run {
        print!("{}", translated.to_toml().map_err(|e| e.to_string())?);
        return Ok(0);
    }
    if args.detach && args.interactive {
        return Err(
            "run: --interactive: a detached container's stdin is /dev/null (box has no attach): drop -i or -d".into(),
        );
    }
    // As Docker's "the input device is not a TTY": box's terminal is fed from its stdin.
    if args.tty && !args.detach && !std::io::stdin().is_terminal() {
        return Err("run: --tty: stdin is not a terminal: drop -t (or run box from one)".into());
    }
    let (spec, stop, image) = (planned.spec, planned.stop, planned.image);
    let file = pseudo_path(&cwd);
    if args.detach {
        return Ok(super::up_detached(root, &file, spec, stop, args.rm, image));
    }
    if !args.interactive && !args.tty {
        stdin_from_null()?;
    }
    Ok(super::foreground::up(root, &file, spec, stop, image))
}

/// Without `-i`, the container reads nothing, as with Docker: its stdin (box's, which it
/// inherits) is /dev/null.
fn stdin_from_null() -> Result<(), String> {
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("run: open /dev/null: {e}"))?;
    nix::unistd::dup2_stdin(null.as_fd()).map_err(|e| format!("run: stdin from /dev/null: {e}"))
}
