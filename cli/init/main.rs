//! box-init: the tiny init `box run --init` (box.toml `init = true`) runs as PID 1 of the
//! container: it starts the command, forwards every signal it gets to it, reaps every child
//! (orphans re-parented to PID 1 included), and exits with the command's status — so that
//! `sleep` stops on SIGTERM, which the kernel does not deliver to a PID 1 without a handler.
//!
//! Built by `cli/build.rs` as a static executable (it runs in any root, busybox's included)
//! and embedded in box; box binds a read-only copy of it into the container (see
//! `cli/src/init.rs`), never box's own binary. It uses only std and the six C functions below,
//! declared by hand because build.rs compiles it with rustc alone (no crates).

use std::os::raw::c_int;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// glibc's `sigset_t`: 1024 bits.
#[repr(C)]
struct SigSet([u64; 16]);

/// glibc's `siginfo_t`: 128 bytes; only `si_signo` (the first int) is read.
#[repr(C)]
struct SigInfo {
    signo: c_int,
    rest: [c_int; 31],
}

const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const SIGCHLD: c_int = 17;
const WNOHANG: c_int = 1;

extern "C" {
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwaitinfo(set: *const SigSet, info: *mut SigInfo) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => &args[..],
    };
    let Some((program, rest)) = args.split_first() else {
        eprintln!("box-init: no command");
        return ExitCode::from(127);
    };
    let mut all = SigSet([0; 16]);
    // SAFETY: `all` is a valid sigset_t-sized buffer that sigfillset fills; sigprocmask reads
    // it and writes nothing (null old set). Blocked before the spawn, no signal is lost: they
    // wait in the pending set for sigwaitinfo.
    unsafe {
        sigfillset(&mut all);
        sigprocmask(SIG_BLOCK, &all, std::ptr::null_mut());
    }
    let mut command = Command::new(program);
    command.args(rest);
    // SAFETY: between fork and exec only sigemptyset and sigprocmask run, on a local buffer:
    // both async-signal-safe. The command must start with no signal blocked (std's spawn keeps
    // the parent's mask), or SIGTERM would wait forever in its pending set.
    unsafe {
        command.pre_exec(|| {
            let mut none = SigSet([0; 16]);
            sigemptyset(&mut none);
            sigprocmask(SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
    let child = match command.spawn() {
        Ok(child) => child.id() as c_int,
        Err(e) => {
            eprintln!("box-init: {program}: {e}");
            // As a shell says: 127 not found, 126 found but not runnable.
            let code = if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 };
            return ExitCode::from(code);
        }
    };
    loop {
        let mut info = SigInfo {
            signo: 0,
            rest: [0; 31],
        };
        // SAFETY: `all` and `info` are valid for the call; sigwaitinfo writes only `info`.
        let sig = unsafe { sigwaitinfo(&all, &mut info) };
        if sig < 0 {
            continue; // EINTR
        }
        if sig != SIGCHLD {
            // SAFETY: kill takes plain integers.
            unsafe { kill(child, sig) };
            continue;
        }
        // Reap every child that has ended; the command's end is the container's.
        loop {
            let mut status: c_int = 0;
            // SAFETY: `status` is a valid int for waitpid to write.
            let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child {
                return ExitCode::from(exit_code(status));
            }
        }
    }
}

/// A wait status as a shell's exit code: the code, or 128 + the signal that killed it.
fn exit_code(status: c_int) -> u8 {
    let signal = status & 0x7f;
    if signal == 0 {
        ((status >> 8) & 0xff) as u8
    } else {
        (128 + signal) as u8
    }
}
