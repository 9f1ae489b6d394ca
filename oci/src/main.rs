//! `box-runc`: box as an OCI runtime. A binary of its own, not `box` switching on its
//! argv[0]: engines take a path to a runtime, the command line is runc's and not box's, and a
//! small binary that does not carry box.toml's front end starts faster on every call.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;

use box_oci::cli::{Cli, Command};
use box_oci::commands::{control, events, exec, info, lifecycle, query};

fn main() {
    let cli = Cli::parse();
    box_oci::log::init(cli.global.log.clone(), &cli.global.log_format);
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            box_oci::log::error(&format!("{e:#}"));
            1
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let g = &cli.global;
    // Before box-runc opens anything: a gap in the fds to pass on would be filled by one of
    // its own (a lock, the exec fifo), which would then reach the container.
    let preserve = match &cli.command {
        Some(Command::Create(c)) | Some(Command::Run { create: c, .. }) => c.preserve_fds,
        Some(Command::Exec(e)) => e.preserve_fds,
        _ => 0,
    };
    check_preserved_fds(preserve)?;
    if g.version {
        return Ok(info::version());
    }
    if g.systemd_cgroup {
        anyhow::bail!(
            "--systemd-cgroup: box has no systemd cgroup driver; use cgroupfs paths \
             (podman --cgroup-manager=cgroupfs, containerd SystemdCgroup = false)"
        );
    }
    let Some(command) = cli.command else {
        anyhow::bail!("a command is needed: see box-runc --help");
    };
    let needs_root = !matches!(command, Command::Features | Command::Spec { .. });
    if needs_root && !nix::unistd::geteuid().is_root() {
        anyhow::bail!("box-runc runs as root: it has no rootless mode");
    }
    match command {
        Command::Create(c) => lifecycle::create(g, &c),
        Command::Start { id } => lifecycle::start(g, &id),
        Command::Run {
            create,
            detach,
            keep,
        } => lifecycle::run(g, &create, detach, keep),
        Command::Delete { id, force } => lifecycle::delete(g, &id, force),
        Command::State { id } => query::state(g, &id),
        Command::List { format, quiet } => query::list(g, &format, quiet),
        Command::Ps {
            id,
            format,
            ps_args,
        } => query::ps(g, &id, &format, &ps_args),
        Command::Kill { id, signal, all } => control::kill(g, &id, &signal, all),
        Command::Events {
            id,
            stats,
            interval,
        } => events::events(g, &id, stats, &interval),
        Command::Pause { id } => control::pause(g, &id, true),
        Command::Resume { id } => control::pause(g, &id, false),
        Command::Update(u) => control::update(g, &u),
        Command::Exec(e) => exec::exec(g, &e),
        Command::Features => info::features(),
        Command::Spec { bundle, rootless } => info::spec(&bundle, rootless),
        Command::Checkpoint { .. } | Command::Restore { .. } => {
            anyhow::bail!("checkpoint and restore need CRIU, which box does not support")
        }
    }
}

fn check_preserved_fds(count: u32) -> anyhow::Result<()> {
    for fd in 3..3u32.saturating_add(count) {
        let raw = i32::try_from(fd)?;
        // SAFETY: F_GETFD only reads the flags of an fd of this process.
        if unsafe { libc::fcntl(raw, libc::F_GETFD) } < 0 {
            anyhow::bail!("--preserve-fds {count}: fd {fd} is not open");
        }
    }
    Ok(())
}
