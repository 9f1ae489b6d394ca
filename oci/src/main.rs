//! `box-runc`: box as an OCI runtime. A binary of its own, not `box` switching on its
//! argv[0]: engines take a path to a runtime, the command line is runc's and not box's, and a
//! small binary that does not carry box.toml's front end starts faster on every call.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;

use box_oci::cli::{Cli, Command};
use box_oci::commands::{control, exec, info, lifecycle, query};

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
        Command::Pause { id } => control::pause(g, &id, true),
        Command::Resume { id } => control::pause(g, &id, false),
        Command::Update(u) => control::update(g, &u),
        Command::Exec(e) => exec::exec(g, &e),
        Command::Features => info::features(),
        Command::Spec { bundle, rootless } => info::spec(&bundle, rootless),
    }
}
