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

use box_security::{
    host_bounding_set, prepare, CapAddDrop, Capabilities, SeccompConfig, SecurityConfig,
};

fn usage(msg: &str) -> ! {
    eprintln!("sandbox: {msg}");
    eprintln!("usage: sandbox [--user UID:GID] [--cap-add CAP] [--cap-drop CAP] [--no-new-privs] [--seccomp default|unconfined|FILE] -- CMD [ARG...]");
    exit(2)
}

fn parse(mut args: impl Iterator<Item = String>) -> (SecurityConfig, CapAddDrop, Vec<String>) {
    let mut cfg = SecurityConfig::default();
    let mut changes = CapAddDrop::default();
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
            "--cap-add" => changes.add.push(value()),
            "--cap-drop" => changes.drop.push(value()),
            "--no-new-privs" => cfg.no_new_privileges = true,
            "--seccomp" => {
                cfg.seccomp = match value().as_str() {
                    "default" => SeccompConfig::Default,
                    "unconfined" => SeccompConfig::Unconfined,
                    path => SeccompConfig::Path(path.into()),
                }
            }
            "--" => return (cfg, changes, args.collect()),
            other => usage(&format!("unknown option {other}")),
        }
    }
    usage("missing -- CMD")
}

fn main() {
    let (mut cfg, changes, command) = parse(std::env::args().skip(1));
    if command.is_empty() {
        usage("missing command");
    }
    let fail = |e: box_security::Error| -> ! {
        eprintln!("sandbox: {e}");
        exit(1)
    };
    // Docker's --cap-add/--cap-drop → the five sets, for this user, on this host.
    let host = host_bounding_set().unwrap_or_else(|e| fail(e));
    let resolved =
        Capabilities::docker(&changes, cfg.user.uid == 0, host).unwrap_or_else(|e| fail(e));
    cfg.capabilities = resolved.capabilities;
    let prepared = prepare(&cfg).unwrap_or_else(|e| fail(e));
    for warning in resolved.warnings.iter().chain(prepared.warnings()) {
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
