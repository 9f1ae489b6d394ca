//! runc's command line, as the engines call it: global flags before the command, each
//! command's flags before or after the container id.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "box-runc",
    about = "box as an OCI runtime (runc's command line)",
    disable_version_flag = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Where container state lives.
    #[arg(long, global = true, default_value = crate::state::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Also write errors to this file.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// `text` or `json` (one object per line, as runc's).
    #[arg(long = "log-format", global = true, default_value = "text")]
    pub log_format: String,
    /// systemd's cgroup driver: box has none, and says so.
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Accepted for runc's callers; box-runc logs only errors.
    #[arg(long, global = true)]
    pub debug: bool,
    /// The version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a container from a bundle; its process waits for `start`.
    Create(Create),
    /// Let a created container's process run.
    Start { id: String },
    /// Create, start and wait for a container, then delete it (unless --detach).
    Run {
        #[command(flatten)]
        create: Create,
        #[arg(short = 'd', long)]
        detach: bool,
        /// Leave the container after it exits.
        #[arg(long)]
        keep: bool,
    },
    /// The container's OCI state as JSON.
    State { id: String },
    /// Send a signal to the container's process (or to all of its processes).
    Kill {
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
        #[arg(short, long)]
        all: bool,
    },
    /// Remove a container (--force: also a running one).
    Delete {
        id: String,
        #[arg(short, long)]
        force: bool,
    },
    /// Run a process in a running container.
    Exec(Exec),
    /// The container's processes.
    Ps {
        id: String,
        #[arg(short, long, default_value = "table")]
        format: String,
        /// Options for ps(1) (after `--`): its lines for the container's processes.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// The containers under --root.
    List {
        #[arg(short, long, default_value = "table")]
        format: String,
        #[arg(short, long)]
        quiet: bool,
    },
    /// The container's cgroup statistics (and OOM events) as JSON lines, until it stops.
    Events {
        id: String,
        /// One statistics event, then exit.
        #[arg(long)]
        stats: bool,
        /// Time between statistics events (Go's durations: 5s, 500ms).
        #[arg(long, default_value = "5s")]
        interval: String,
    },
    /// Freeze every process of the container.
    Pause { id: String },
    /// Thaw a paused container.
    Resume { id: String },
    /// Change the container's cgroup limits.
    Update(Update),
    /// What this runtime supports, as OCI's features JSON.
    Features,
    /// runc's CRIU checkpoint: refused (box has no CRIU support).
    #[command(disable_help_flag = true)]
    Checkpoint {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// runc's CRIU restore: refused (box has no CRIU support).
    #[command(disable_help_flag = true)]
    Restore {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write a template config.json.
    Spec {
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        #[arg(long)]
        rootless: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Create {
    pub id: String,
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
}

#[derive(Args, Debug, Clone)]
pub struct Exec {
    pub id: String,
    /// The command, when there is no --process file.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    #[arg(short, long)]
    pub detach: bool,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    #[arg(short, long)]
    pub tty: bool,
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    #[arg(short, long)]
    pub env: Vec<String>,
    /// `UID[:GID]`.
    #[arg(short, long)]
    pub user: Option<String>,
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Added to the bounding, effective and permitted sets.
    #[arg(short, long)]
    pub cap: Vec<String>,
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    #[arg(long = "apparmor")]
    pub apparmor: Option<String>,
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
}

#[derive(Args, Debug, Clone)]
pub struct Update {
    pub id: String,
    /// A JSON file of OCI `linux.resources` (`-`: stdin).
    #[arg(short, long)]
    pub resources: Option<PathBuf>,
    #[arg(long)]
    pub memory: Option<String>,
    #[arg(long = "memory-reservation")]
    pub memory_reservation: Option<String>,
    #[arg(long = "memory-swap")]
    pub memory_swap: Option<String>,
    #[arg(long = "cpu-quota")]
    pub cpu_quota: Option<i64>,
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    #[arg(long = "cpu-rt-runtime")]
    pub cpu_rt_runtime: Option<i64>,
    #[arg(long = "cpu-share")]
    pub cpu_share: Option<u64>,
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<i64>,
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
}
