//! `box run`'s options: Docker's names and forms, so that a `docker run` line works with `box`
//! in its place. Each maps onto a box.toml key (see `to_toml.rs`); the few that are about the
//! run itself (`-d`, `-i`, `--rm`, `--dry-run`) map onto nothing.

use std::path::PathBuf;

/// `box run [OPTIONS] IMAGE|--rootfs DIR [COMMAND [ARG...]]`.
#[derive(Debug, Default, clap::Args)]
#[command(
    disable_help_flag = true,
    override_usage = "box run [OPTIONS] IMAGE [COMMAND [ARG...]]\n       box run [OPTIONS] --rootfs DIR|host COMMAND [ARG...]",
    after_help = "Options after the image (or, with --rootfs, after the command) are the command's. \
                  `box run --dry-run ...` prints the equivalent box.toml; docs/docker.md maps \
                  every Docker option to box."
)]
pub struct RunArgs {
    /// Print help (-h is --hostname, as Docker's).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Print the equivalent box.toml instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    /// Run in the background: print the name once running (see `box ps`, `box logs`).
    #[arg(short, long)]
    pub detach: bool,
    /// Keep stdin open: without it (or -t) the container's stdin is /dev/null.
    #[arg(short, long)]
    pub interactive: bool,
    /// A terminal for the container (stdin must be one); TERM is the caller's, else xterm.
    #[arg(short, long)]
    pub tty: bool,
    /// Remove the container when it exits (always so in the foreground, as box does).
    #[arg(long)]
    pub rm: bool,
    /// The container's name (default box-<pid>).
    #[arg(long)]
    pub name: Option<String>,
    /// A root filesystem directory, or `host` (a read-only view of this host), instead of an
    /// image.
    #[arg(long, value_name = "DIR|host")]
    pub rootfs: Option<String>,
    /// Set an environment variable (KEY=VALUE; KEY alone takes the caller's value).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read environment variables from a file (KEY=VALUE lines, # comments).
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container.
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// UID[:GID], numeric.
    #[arg(short, long, value_name = "UID[:GID]")]
    pub user: Option<String>,
    /// The container's hostname (default: its name).
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Bind a host path: SRC:DST[:ro|rw] (SRC relative to the current directory).
    #[arg(short, long = "volume", value_name = "SRC:DST[:ro]")]
    pub volume: Vec<String>,
    /// A tmpfs: DST[:size=SIZE,mode=MODE].
    #[arg(long, value_name = "DST[:OPTIONS]")]
    pub tmpfs: Vec<String>,
    /// Mount the container's root read-only.
    #[arg(long)]
    pub read_only: bool,
    /// Add a host device: HOST[:CONTAINER][:PERMISSIONS].
    #[arg(long, value_name = "HOST[:CONTAINER][:rwm]")]
    pub device: Vec<String>,
    /// none | host | container:NAME | bridge | NETWORK (a bridge of that name).
    #[arg(long, visible_alias = "net", value_name = "MODE")]
    pub network: Option<String>,
    /// Publish a port: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp] (implies a bridge).
    #[arg(short, long = "publish", value_name = "[IP:]HOST:CONTAINER")]
    pub publish: Vec<String>,
    /// host: the host's pid namespace.
    #[arg(long, value_name = "host")]
    pub pid: Option<String>,
    /// host: the host's ipc namespace.
    #[arg(long, value_name = "host")]
    pub ipc: Option<String>,
    /// host: the host's uts namespace.
    #[arg(long, value_name = "host")]
    pub uts: Option<String>,
    /// host | new: the user namespace (default host, as Docker without userns-remap).
    #[arg(long, value_name = "host|new")]
    pub userns: Option<String>,
    /// host | private: the cgroup namespace.
    #[arg(long, value_name = "host|private")]
    pub cgroupns: Option<String>,
    /// Memory limit (200m, 1g, bytes).
    #[arg(short, long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Soft memory limit.
    #[arg(long, value_name = "SIZE")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs (a quota: 1.5).
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// Relative CPU weight.
    #[arg(short = 'c', long, value_name = "N")]
    pub cpu_shares: Option<String>,
    /// CPUs to run on (0-3, 0,1).
    #[arg(long, value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to allocate on.
    #[arg(long, value_name = "LIST")]
    pub cpuset_mems: Option<String>,
    /// Most processes at once (-1: unlimited).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Add a capability (NET_ADMIN, ALL).
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability (ALL, NET_RAW).
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// seccomp=FILE|unconfined, no-new-privileges[:true|false], apparmor=PROFILE, label=...
    #[arg(long, value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// A resource limit: NAME=SOFT[:HARD] (nofile=1024:2048).
    #[arg(long, value_name = "NAME=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// The program to run instead of the image's (its arguments: the command).
    #[arg(long, value_name = "PROGRAM")]
    pub entrypoint: Option<String>,
    /// A tiny init as PID 1 that reaps and forwards signals (so `sleep` stops on SIGTERM).
    #[arg(long)]
    pub init: bool,
    /// The signal `box stop` sends first (default SIGTERM).
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Seconds `box stop` waits before SIGKILL (default 10).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub stop_timeout: Option<String>,
    /// IMAGE (or, with --rootfs, the command), then the command and its arguments.
    #[arg(
        value_name = "IMAGE [COMMAND [ARG...]]",
        trailing_var_arg = true,
        allow_hyphen_values = false
    )]
    pub rest: Vec<String>,
}
