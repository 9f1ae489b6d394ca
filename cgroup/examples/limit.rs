//! Run a command under cgroup limits, without the rest of box (needs root):
//!
//! ```text
//! cargo run -p box-cgroup --example limit -- --memory 64m --cpus 0.5 --pids 32 -- sh -c 'echo hi'
//! ```
//!
//! The child is forked, joins the cgroup while it waits on a pipe, and only then executes the
//! command, so not one instruction of it runs outside the limits.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;

use box_cgroup::{parse_size, Cgroup, Layout, Resources};
use nix::fcntl::OFlag;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{execvp, fork, pipe2, read, write, ForkResult};

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("limit: {e}");
            ExitCode::from(125)
        }
    }
}

fn run() -> Result<u8, Box<dyn std::error::Error>> {
    let (res, name, command) = parse_args()?;
    let layout = Layout::detect()?;
    res.validate(&layout)?;
    let path = PathBuf::from(format!("box/{name}"));
    let cg = Cgroup::create(&layout, &path, &res)?;
    println!("cgroup {} on a {:?} host:", path.display(), layout.mode());
    for d in cg.paths() {
        println!("  {:?}: {}", d.hierarchy, d.dir.display());
    }
    let result = run_in(&cg, &command);
    let stats = cg.stats();
    let oom = cg.oom_killed();
    cg.destroy()?;
    let code = result?;
    println!("stats: {:?}", stats?);
    if oom? {
        println!("the kernel OOM-killed the command");
    }
    Ok(code)
}

/// Fork, put the child in `cg`, let it exec `command`, wait for it.
fn run_in(cg: &Cgroup, command: &[String]) -> Result<u8, Box<dyn std::error::Error>> {
    // Everything the child needs is allocated before fork.
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: the child only calls async-signal-safe functions (read, execvp, write, _exit)
    // on memory prepared above, then replaces itself.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(go_w);
            let mut byte = [0u8];
            if read(go_r.as_fd(), &mut byte) == Ok(1) {
                let _ = execvp(&argv[0], &argv);
                let _ = write(std::io::stderr(), b"limit: exec failed\n");
            }
            // SAFETY: leave the forked copy without running the parent's destructors.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            drop(go_r);
            let joined = cg.add_process(child);
            // Release the child either way: without the byte it exits 127.
            if joined.is_ok() {
                write(&go_w, b"x")?;
            }
            drop(go_w);
            let status = waitpid(child, None)?;
            joined?;
            Ok(match status {
                WaitStatus::Exited(_, code) => code as u8,
                WaitStatus::Signaled(_, sig, _) => 128 + sig as u8,
                _ => 1,
            })
        }
    }
}

fn parse_args() -> Result<(Resources, String, Vec<String>), Box<dyn std::error::Error>> {
    let mut res = Resources::default();
    let mut name = format!("limit-{}", std::process::id());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--" {
            let command: Vec<String> = args.collect();
            if command.is_empty() {
                break;
            }
            return Ok((res, name, command));
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--memory" => res.memory = Some(parse_size(&value)?),
            "--cpus" => res.cpus = Some(value.parse()?),
            "--pids" => res.pids = Some(value.parse()?),
            "--cpuset-cpus" => res.cpuset_cpus = Some(value),
            "--name" => name = value,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Err("usage: limit [--memory SIZE] [--cpus N] [--pids N] [--cpuset-cpus LIST] [--name NAME] -- COMMAND [ARG...]".into())
}
