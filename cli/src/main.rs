//! `box`: run a container from a box.toml.

// Nothing the kernel or the user can make fail is unwrapped: errors are returned, typed.
#![deny(clippy::unwrap_used, clippy::expect_used)]
// The process starts at the C `main` below, not through std's runtime: see entry.rs.
#![cfg_attr(not(test), no_main)]

#[macro_use]
mod stdio;
mod commands;
#[cfg(not(test))]
mod entry;
mod fast_args;
mod generate;
mod state;
mod stats;

// The parsers of hostile input live in the library (`box_cli`, see lib.rs): bound here so the
// binary's modules keep naming them `crate::config` and `crate::name`.
use box_cli::{config, name};

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use box_launcher::exit_code::CANNOT_START;

/// A container runtime that builds each kernel boundary (namespaces, cgroups, capabilities,
/// seccomp, its own root) in plain sight.
#[derive(Debug, Parser)]
#[command(name = "box", version, about, max_term_width = 100)]
struct Cli {
    /// Where container state lives (default $BOX_ROOT, else /run/box).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Where images live (default $BOX_STORE, else /var/lib/box).
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the container(s) a box.toml describes, in the foreground, and exit with the first
    /// one's exit code.
    Up {
        /// The container definition.
        file: PathBuf,
        /// Give the container a terminal (like `docker run -t`), whatever the file says.
        #[arg(short, long)]
        tty: bool,
        /// Print how long each step of the start sequence took, on stderr.
        #[arg(long)]
        timings: bool,
        /// Run in the background: print the name(s) once running (see `box ps`, `box logs`).
        #[arg(short, long)]
        detach: bool,
    },
    /// Stop and remove every container a box.toml defines (reverse start order).
    Down {
        /// The container definition.
        file: PathBuf,
        /// Seconds to wait after SIGTERM before SIGKILL.
        #[arg(short, long, default_value_t = 10)]
        time: u64,
    },
    /// Run a container from Docker's options: `box run -it --rootfs DIR sh`, `box run -d --name
    /// c1 --rootfs host sleep 1000` (`--dry-run` prints the equivalent box.toml).
    Run(Box<box_cli::run::RunArgs>),
    /// Check a box.toml without running anything.
    Validate {
        /// The container definition.
        file: PathBuf,
    },
    #[command(flatten)]
    Lifecycle(commands::Lifecycle),
    /// Print shell completions: `box completion bash > /etc/bash_completion.d/box`.
    Completion {
        /// bash, zsh, fish (or elvish, powershell).
        shell: clap_complete::Shell,
    },
    /// Write a man page per command into DIR (`cargo xtask man` does).
    #[command(hide = true)]
    Man {
        /// Where the pages go.
        dir: PathBuf,
    },
    #[command(flatten)]
    Image(commands::image::ImageCommand),
    /// Show running containers' memory, CPU and pids usage and limits, read from their cgroups
    /// (every running container without a name).
    Stats(stats::StatsArgs),
}

/// The process's entry, called by the C library with the command line.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    entry::start();
    // SAFETY: the C runtime passes `argc` valid NUL-terminated strings in `argv`.
    let args = unsafe { entry::args(argc, argv) };
    // Not a return: `exit` flushes std's stdout buffer first.
    std::process::exit(run(args))
}

/// box's command line (`args`, the program's name first), run; its exit code.
#[cfg_attr(test, allow(dead_code))]
fn run(args: Vec<std::ffi::OsString>) -> i32 {
    // The start path: `box up FILE` without building clap's command tree.
    if let Some(args) = fast_args::parse_up(args.iter().skip(1).cloned()) {
        let root = state::Root::new(args.root);
        let code = up(
            &root,
            args.store,
            &args.file,
            args.tty,
            args.timings,
            args.detach,
        );
        return exit_code(code);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return i32::from(parse_error(e)),
    };
    let root = state::Root::new(cli.root);
    let code = match cli.command {
        Command::Up {
            file,
            tty,
            timings,
            detach,
        } => up(&root, cli.store, &file, tty, timings, detach),
        Command::Down { file, time } => commands::compose::down(&root, &file, time),
        Command::Validate { file } => validate(&root, cli.store.clone(), &file),
        Command::Run(args) => commands::run::run(&root, cli.store.clone(), &args),
        Command::Lifecycle(cmd) => commands::run(cmd, &root),
        Command::Image(cmd) => commands::image::run(cmd, cli.store, &root),
        Command::Stats(args) => stats::run(&args, &root),
        Command::Completion { shell } => generate::completion(Cli::command(), shell),
        Command::Man { dir } => generate::man(Cli::command(), &dir).unwrap_or_else(|e| {
            eprintln!("box: man: {e:#}");
            1
        }),
    };
    exit_code(code)
}

/// box's exit code, as the process can have it (0–255).
fn exit_code(code: i32) -> i32 {
    code.clamp(0, 255)
}

/// Prints a command line error; returns the exit code. An option `box run` does not know is
/// most likely one of Docker's: it is named, and pointed at the table of what box has.
fn parse_error(e: clap::Error) -> u8 {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let in_run = matches!(e.get(ContextKind::Usage), Some(ContextValue::StyledStr(u)) if u.to_string().contains("box run"));
    if let (ErrorKind::UnknownArgument, true, Some(ContextValue::String(option))) =
        (e.kind(), in_run, e.get(ContextKind::InvalidArg))
    {
        eprintln!(
            "box: run: unknown option {option}: box run has no such option (docs/docker.md maps Docker's options to box's; `box run --help` lists them)"
        );
        return CANNOT_START as u8;
    }
    let _ = e.print();
    e.exit_code().clamp(0, 255) as u8
}

/// The file's containers, checked, in start order (one, for the single-container form).
/// Images come from `store`; a missing one is pulled when `pull` is set (`box up`).
fn load_plan(
    root: &state::Root,
    store: Option<PathBuf>,
    pull: bool,
    file: &std::path::Path,
) -> Result<Vec<config::Planned>, config::ConfigError> {
    let loaded = config::load(file)?;
    let host = config::Host {
        container_pid: &|name| commands::container_pid(root, name),
        images: &|reference| commands::image::resolve(store.clone(), reference, pull),
        state_dir: &|name| root.container_dir(name),
    };
    config::plan(&loaded, &host)
}

fn validate(root: &state::Root, store: Option<PathBuf>, file: &std::path::Path) -> i32 {
    match load_plan(root, store, false, file) {
        Ok(plan) => {
            let names: Vec<String> = plan.iter().map(|p| format!("{:?}", p.spec.name)).collect();
            match names.as_slice() {
                [one] => println!("{}: ok (container {one})", file.display()),
                _ => println!(
                    "{}: ok (containers {}, in start order)",
                    file.display(),
                    names.join(", ")
                ),
            }
            0
        }
        Err(e) => {
            eprintln!("box: {e}");
            CANNOT_START
        }
    }
}

fn up(
    root: &state::Root,
    store: Option<PathBuf>,
    file: &std::path::Path,
    tty: bool,
    timings: bool,
    detach: bool,
) -> i32 {
    let mut plan = match load_plan(root, store, true, file) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("box: {e}");
            return CANNOT_START;
        }
    };
    if plan.len() > 1 {
        let flags = commands::compose::UpFlags {
            detach,
            tty,
            timings,
        };
        return commands::compose::up(root, file, plan, flags);
    }
    // One container: no joins within the file are left to resolve.
    let Some(config::Planned {
        mut spec,
        image,
        stop,
        ..
    }) = plan.pop()
    else {
        eprintln!("box: {}: defines no container", file.display());
        return CANNOT_START;
    };
    if tty {
        spec.process.tty = true;
        spec.rootfs.console = true;
        // As `tty = true` gives it, unless the file sets one: the caller's, else xterm.
        if !spec.process.env.iter().any(|e| e.starts_with("TERM=")) {
            let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
            spec.process.env.push(format!("TERM={term}"));
        }
    }
    spec.timings = timings;
    if detach {
        return commands::up_detached(root, file, spec, stop, false, image);
    }
    commands::foreground::up(root, file, spec, stop, image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fast_args::{parse_up, Up};

    const TOKENS: &[&str] = &[
        "up",
        "-t",
        "--tty",
        "--timings",
        "-d",
        "--detach",
        "--root",
        "/r",
        "--root=/r",
        "--store",
        "/s",
        "--store=/s",
        "f.toml",
        "g.toml",
        "-dt",
        "--",
        "-",
        "",
        "--help",
        "down",
        "--root=",
        "-x",
        "--root=-x",
    ];

    /// What clap makes of `args`, when it is a `box up`.
    fn clap_up(args: &[&str]) -> Option<Up> {
        let cli = Cli::try_parse_from(std::iter::once("box").chain(args.iter().copied())).ok()?;
        match cli.command {
            Command::Up {
                file,
                tty,
                timings,
                detach,
            } => Some(Up {
                root: cli.root,
                store: cli.store,
                file,
                tty,
                timings,
                detach,
            }),
            _ => None,
        }
    }

    fn check(args: &[&str]) {
        if let Some(fast) = parse_up(args.iter().map(|a| a.into())) {
            assert_eq!(Some(fast), clap_up(args), "{args:?}");
        }
    }

    #[test]
    fn the_fast_path_reads_every_form_it_takes_as_clap_does() {
        for a in TOKENS {
            check(&[a]);
            for b in TOKENS {
                check(&[a, b]);
                for c in TOKENS {
                    check(&[a, b, c]);
                }
            }
        }
        for args in [
            &["--root", "/r", "up", "-d", "--timings", "f.toml"][..],
            &["up", "f.toml", "--store=/s", "-t", "--root", "/r"],
            &["up", "-d", "-t", "--timings", "--detach", "f.toml"],
            &["--store", "/s", "--store", "/t", "up", "f.toml"],
        ] {
            check(args);
        }
    }

    #[test]
    fn the_fast_path_takes_the_plain_forms() {
        for args in [
            &["up", "f.toml"][..],
            &["up", "-d", "f.toml"],
            &["--root", "/r", "up", "--timings", "f.toml"],
            &["up", "f.toml", "--store=/s", "-t"],
        ] {
            assert!(
                parse_up(args.iter().map(|a| a.into())).is_some(),
                "{args:?}"
            );
        }
        for args in [
            &["up"][..],
            &["up", "-dt", "f.toml"],
            &["up", "-d", "-d", "f.toml"],
            &["up", "--", "f.toml"],
            &["up", "--help"],
            &["down", "f.toml"],
        ] {
            assert_eq!(parse_up(args.iter().map(|a| a.into())), None, "{args:?}");
        }
    }
}
