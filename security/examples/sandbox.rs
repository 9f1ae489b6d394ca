//! Runs a command under box's security layer, without the rest of box (run as root):
//!
//! ```text
//! cargo run -p box-security --example sandbox -- [--user UID:GID] [--cap-add CAP]... \
//!     [--cap-drop CAP]... [--no-new-privs] [--seccomp default|unconfined|PROFILE.json] \
//!     -- /bin/sh -c 'grep -E "Cap|Seccomp|NoNewPrivs" /proc/self/status'
//! ```
//!
//! It applies the configuration to itself and execs the command (no namespaces, no new root).

use std::ffi::CString;
use std::process::exit;

use box_security::{prepare, SeccompConfig, SecurityConfig};

fn usage(msg: &str) -> ! {
    eprintln!("sandbox: {msg}");
    eprintln!("usage: sandbox [--user UID:GID] [--cap-add CAP] [--cap-drop CAP] [--no-new-privs] [--seccomp default|unconfined|FILE] -- CMD [ARG...]");
    exit(2)
}

fn parse(mut args: impl Iterator<Item = String>) -> (SecurityConfig, Vec<String>) {
    let mut cfg = SecurityConfig::default();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--user" => {
                let v = value();
                let (uid, gid) = v.split_once(':').unwrap_or((&v, &v));
                cfg.user.uid = uid.parse().unwrap_or_else(|_| usage("bad uid"));
                cfg.user.gid = gid.parse().unwrap_or_else(|_| usage("bad gid"));
            }
            "--cap-add" => cfg.capabilities.add.push(value()),
            "--cap-drop" => cfg.capabilities.drop.push(value()),
            "--no-new-privs" => cfg.no_new_privileges = true,
            "--seccomp" => {
                cfg.seccomp = match value().as_str() {
                    "default" => SeccompConfig::Default,
                    "unconfined" => SeccompConfig::Unconfined,
                    path => SeccompConfig::Profile(path.into()),
                }
            }
            "--" => return (cfg, args.collect()),
            other => usage(&format!("unknown option {other}")),
        }
    }
    usage("missing -- CMD")
}

fn main() {
    let (cfg, command) = parse(std::env::args().skip(1));
    if command.is_empty() {
        usage("missing command");
    }
    let prepared = prepare(&cfg).unwrap_or_else(|e| {
        eprintln!("sandbox: {e}");
        exit(1)
    });
    for warning in prepared.warnings() {
        eprintln!("sandbox: warning: {warning}");
    }
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).unwrap_or_else(|_| usage("argument contains NUL")))
        .collect();
    // This process is single-threaded here, as a container's init would be.
    if let Err(e) = prepared
        .apply_identity()
        .and_then(|()| prepared.apply_restrictions())
    {
        eprintln!("sandbox: {e}");
        exit(1);
    }
    let err = nix::unistd::execvp(&argv[0], &argv).unwrap_err();
    eprintln!("sandbox: exec {}: {err}", command[0]);
    exit(127);
}
