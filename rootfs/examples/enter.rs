//! Runs a command (default: `/bin/sh`) in a fresh container root.
//!
//! ```text
//! sudo cargo run -p box-rootfs --example enter                 # host view, interactive shell
//! sudo cargo run -p box-rootfs --example enter -- --dir /srv/alpine /bin/sh -c 'ls /'
//! ```
//!
//! The shell sees a read-only host `/usr` and `/etc`, private `/tmp`, its own
//! `/proc` (it is PID 1), a minimal `/dev`, and nothing else of the host.

use std::ffi::CString;
use std::process::ExitCode;

use box_rootfs::{check, setup, Root, RootfsConfig};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{execv, fork, ForkResult};

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("enter: {e}");
            ExitCode::from(125)
        }
    }
}

fn run() -> Result<u8, Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = RootfsConfig::default();
    if args.first().map(String::as_str) == Some("--dir") {
        let dir = args.get(1).ok_or("--dir needs a path")?;
        cfg.root = Root::Dir(std::fs::canonicalize(dir)?);
        args.drain(..2);
    }
    if args.is_empty() {
        args.push("/bin/sh".into());
    }
    let argv = args
        .into_iter()
        .map(CString::new)
        .collect::<Result<Vec<_>, _>>()?;

    check(&cfg)?; // cheap, before any namespace exists
    unshare(
        CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWUTS
            | CloneFlags::CLONE_NEWIPC,
    )?;
    // SAFETY: single-threaded program; the child only sets up and execs.
    match unsafe { fork() }? {
        ForkResult::Child => {
            // PID 1 of the new pid namespace, alone in the new mount namespace.
            if let Err(e) = setup(&cfg) {
                eprintln!("enter: {e}");
                std::process::exit(125);
            }
            let e = execv(&argv[0], &argv).unwrap_err();
            eprintln!("enter: exec {:?}: {e}", argv[0]);
            std::process::exit(127);
        }
        ForkResult::Parent { child } => match waitpid(child, None)? {
            WaitStatus::Exited(_, code) => Ok(code as u8),
            WaitStatus::Signaled(_, sig, _) => Ok(128 + sig as u8),
            _ => Ok(1),
        },
    }
}
