//! The lifecycle commands: detached containers and everything that finds them again through
//! the state root (`ps`, `inspect`, `logs`, `exec`, `stop`, `kill`, `rm`, `wait`, `ns`).

pub mod compose;
mod detach;
mod exec;
pub mod foreground;
pub mod image;
mod inspect;
mod logs;
pub(crate) mod logtimes;
mod network_info;
mod ns;
mod pidfd;
mod ps;
mod remove;
pub mod run;
mod settle;
mod signal;
mod trim;

use box_cli::template;
use clap::Subcommand;

use crate::name::Name;
use crate::state::Root;

pub use detach::up_detached;

/// Subcommands flattened into box's own.
#[derive(Debug, Subcommand)]
pub enum Lifecycle {
    /// List containers (running ones; all with -a).
    Ps {
        /// Show every container, not only running ones.
        #[arg(short, long)]
        all: bool,
        /// Only the names.
        #[arg(short, long)]
        quiet: bool,
        /// `table` (default), `json`, or a Go template per row: `{{.Name}} {{.Pid}}`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Show containers as JSON, with what the kernel reports about them now.
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
        /// A Go-template subset: `{{.State.Pid}}`, `{{json .Namespaces}}`, `{{range .X}}..{{end}}`.
        #[arg(short, long)]
        format: Option<String>,
    },
    /// Print what a detached container wrote to stdout and stderr.
    Logs {
        name: String,
        /// Keep printing new output until the container exits.
        #[arg(short, long)]
        follow: bool,
        /// Only the last N lines.
        #[arg(short = 'n', long)]
        tail: Option<usize>,
        /// Each line behind the time it was written (RFC 3339, nanoseconds).
        #[arg(short, long)]
        timestamps: bool,
        /// Only lines written since: an RFC 3339 time, a duration back from now (10m), or Unix
        /// seconds.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
    /// Stop containers: SIGTERM (or their stop signal: box.toml's, else the image's), then
    /// SIGKILL after the timeout.
    Stop {
        #[arg(required = true)]
        names: Vec<String>,
        /// Seconds to wait before SIGKILL (default: the container's stop_timeout, else 10).
        #[arg(short, long)]
        time: Option<u64>,
    },
    /// Send a signal to containers' PID 1 (default SIGKILL).
    Kill {
        #[arg(required = true)]
        names: Vec<String>,
        /// A name (`TERM`, `SIGTERM`) or a number.
        #[arg(short, long, default_value = "KILL")]
        signal: String,
    },
    /// Remove stopped containers (running ones too with -f).
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
        /// Kill a running container first.
        #[arg(short, long)]
        force: bool,
    },
    /// Wait until a container exits and print its exit code.
    Wait { name: String },
    /// Run a command in a running container (its namespaces, cgroup, root and security).
    Exec {
        /// Give the command a terminal.
        #[arg(short, long)]
        tty: bool,
        /// Working directory inside the container (default: the container's).
        #[arg(short, long)]
        workdir: Option<String>,
        name: String,
        /// The command and its arguments (after `--` too, as before): options after the
        /// command are the command's.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Compare the namespaces of two containers, or of a container and the host, as the kernel
    /// reports them now.
    Ns {
        /// A container name.
        a: String,
        /// Another container, or `host` (the default).
        b: Option<String>,
    },
}

/// Runs one lifecycle command; returns the exit code.
pub fn run(cmd: Lifecycle, root: &Root) -> i32 {
    let result = match cmd {
        Lifecycle::Ps { all, quiet, format } => ps::ps(root, all, quiet, &format),
        Lifecycle::Inspect { names, format } => inspect::inspect(root, &names, format.as_deref()),
        Lifecycle::Logs {
            name,
            follow,
            tail,
            timestamps,
            since,
        } => since
            .as_deref()
            .map(logs::parse_since)
            .transpose()
            .and_then(|since| {
                let show = logs::Show { timestamps, since };
                parse(&name).and_then(|name| logs::logs(root, &name, follow, tail, show))
            }),
        Lifecycle::Stop { names, time } => signal::stop(root, &names, time),
        Lifecycle::Kill { names, signal } => signal::kill(root, &names, &signal),
        Lifecycle::Rm { names, force } => remove::rm(root, &names, force),
        Lifecycle::Wait { name } => parse(&name).and_then(|name| signal::wait(root, &name)),
        Lifecycle::Ns { a, b } => ns::ns(root, &a, b.as_deref()),
        Lifecycle::Exec {
            tty,
            workdir,
            name,
            command,
        } => {
            parse(&name).and_then(|name| exec::exec(root, &name, tty, workdir.as_deref(), &command))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("box: {e:#}");
            1
        }
    }
}

/// What box says when the kernel's OOM killer killed a process of a container (its PID 1 or
/// another: the exit code says which).
pub(crate) fn oom_message(name: &Name) -> String {
    format!("a process of container {name} was killed by the kernel's OOM killer (memory limit reached)")
}

/// Installs box-init's host copy when `spec` runs it (`init = true`): before the start, so
/// the bind of it finds it.
pub(crate) fn install_init(spec: &box_launcher::Spec) -> anyhow::Result<()> {
    let host = box_cli::init::host_path();
    if spec
        .rootfs
        .mounts
        .iter()
        .any(|m| m.source.as_ref() == Some(&host))
    {
        box_cli::init::install().map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// A name from the command line, checked before any path is built from it.
pub(crate) fn parse(text: &str) -> anyhow::Result<Name> {
    Ok(Name::parse(text)?)
}

/// For `container:NAME` in `[namespaces]`: the PID 1 of that running container (none for a
/// name that cannot be a container's).
pub fn container_pid(root: &Root, name: &str) -> Option<i32> {
    let entry = root.entry(&Name::parse(name).ok()?).ok()?;
    entry.container_process().map(|p| p.pid)
}
