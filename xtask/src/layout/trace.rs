//! Which functions a traced program runs, and when each first ran: a breakpoint (`int3`) on
//! the first byte of every function, put back to its own byte at its first hit. One stop per
//! function, so a traced start runs at nearly its own speed; processes it forks are traced too
//! (each has its own copy of the breakpoints still set), until they `execve` something else.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{execv, fork, ForkResult, Pid};

const INT3: u64 = 0xcc;

/// What a trace saw: functions by address, in the order of their first run.
pub struct Trace {
    pub hits: Vec<u64>,
    /// First runs again, in the process that ran `rearm_at`, from that moment on.
    pub late_hits: Vec<u64>,
    /// The words on that process's stack at that moment: among them the return addresses
    /// into the functions it goes back to (entered before, so never hit again).
    pub stack_at_rearm: Vec<u64>,
    /// When the traced program itself exited.
    pub root_exit: Option<Instant>,
}

/// While tracing: after the traced program exited and nothing hit a new function for `idle`,
/// `then` runs once (say, `box rm -f` of the container a `box up -d` left running); its child
/// process is not traced, and the trace ends when every traced process has.
pub struct Afterwards<'a> {
    pub idle: Duration,
    pub then: &'a mut dyn FnMut() -> Result<Pid>,
}

/// Runs `argv` (whose binary is `exe`, not position-independent) with a breakpoint on each of
/// `functions`. The first process to run `rearm_at` gets every breakpoint set again.
pub fn run(
    exe: &Path,
    argv: &[String],
    functions: &[u64],
    rearm_at: Option<u64>,
    mut after: Option<Afterwards>,
) -> Result<Trace> {
    let path = CString::new(exe.as_os_str().as_encoded_bytes())?;
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    // SAFETY: xtask starts no thread before this; the child only calls async-signal-safe
    // functions (ptrace, execv, _exit) before its exec.
    let root = match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            let _ = ptrace::traceme();
            let _ = execv(&path, &args);
            // SAFETY: _exit ends the child without running the parent's destructors.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => child,
    };
    match waitpid(root, None).context("wait for the traced exec")? {
        WaitStatus::Stopped(_, Signal::SIGTRAP) => {}
        other => bail!("the traced program did not stop at its exec: {other:?}"),
    }
    ptrace::setoptions(
        root,
        Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_EXITKILL,
    )
    .context("ptrace options")?;
    let mut original = HashMap::with_capacity(functions.len());
    for &addr in functions {
        let word = peek(root, addr)?;
        original.insert(addr, word & 0xff);
    }
    arm(root, &original)?;
    let mut trace = Trace {
        hits: Vec::new(),
        late_hits: Vec::new(),
        stack_at_rearm: Vec::new(),
        root_exit: None,
    };
    let mut seen: HashSet<u64> = HashSet::new();
    // The process that ran `rearm_at`, its threads and children since, and what they ran.
    let mut late: Option<(HashSet<Pid>, HashSet<u64>)> = None;
    let mut live: HashSet<Pid> = HashSet::from([root]);
    let mut untraced: Option<Pid> = None;
    let mut last_hit = Instant::now();
    ptrace::cont(root, None).context("start the traced program")?;
    while !live.is_empty() {
        let flags = after.as_ref().map(|_| WaitPidFlag::WNOHANG);
        let flags = flags.map_or(WaitPidFlag::__WALL, |f| f | WaitPidFlag::__WALL);
        let status = waitpid(None, Some(flags)).context("wait for the traced processes")?;
        match status {
            WaitStatus::StillAlive => {
                let quiet =
                    |a: &&mut Afterwards| trace.root_exit.is_some() && last_hit.elapsed() >= a.idle;
                if let Some(a) = after.as_mut().filter(quiet) {
                    untraced = Some((a.then)()?);
                    after = None;
                } else {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) => {
                if Some(pid) == untraced {
                    continue;
                }
                live.remove(&pid);
                if pid == root {
                    trace.root_exit = Some(Instant::now());
                }
            }
            WaitStatus::Stopped(pid, Signal::SIGTRAP) => {
                let mut regs = ptrace::getregs(pid).context("registers at a breakpoint")?;
                let addr = regs.rip - 1;
                let Some(&byte) = original.get(&addr) else {
                    ptrace::cont(pid, Signal::SIGTRAP).context("pass a SIGTRAP on")?;
                    continue;
                };
                // A process sharing the memory may have put the byte back already.
                let word = peek(pid, addr)?;
                if word & 0xff == INT3 {
                    poke(pid, addr, (word & !0xff) | byte)?;
                }
                regs.rip = addr;
                ptrace::setregs(pid, regs).context("rewind to the function")?;
                let (hits, seen) = match &mut late {
                    Some((pids, seen_late)) if pids.contains(&pid) => {
                        (&mut trace.late_hits, seen_late)
                    }
                    _ => (&mut trace.hits, &mut seen),
                };
                if seen.insert(addr) {
                    hits.push(addr);
                }
                last_hit = Instant::now();
                if late.is_none() && Some(addr) == rearm_at {
                    trace.stack_at_rearm = stack_words(pid, regs.rsp);
                    arm(pid, &original)?;
                    late = Some((HashSet::from([pid]), HashSet::new()));
                }
                ptrace::cont(pid, None).context("continue after a breakpoint")?;
            }
            WaitStatus::Stopped(pid, Signal::SIGSTOP) if !live.contains(&pid) => {
                // A new process's first stop.
                live.insert(pid);
                ptrace::cont(pid, None).context("start a traced child")?;
            }
            WaitStatus::Stopped(pid, sig) => {
                live.insert(pid);
                ptrace::cont(pid, sig).context("pass a signal on")?;
            }
            WaitStatus::PtraceEvent(pid, _, event) if event == libc::PTRACE_EVENT_EXEC => {
                // The container's command: not box any more.
                live.remove(&pid);
                ptrace::detach(pid, None).context("let an exec'd process go")?;
            }
            WaitStatus::PtraceEvent(pid, _, event) => {
                let born = [libc::PTRACE_EVENT_CLONE, libc::PTRACE_EVENT_FORK];
                if let Some((pids, _)) = late.as_mut().filter(|(p, _)| p.contains(&pid)) {
                    if born.contains(&event) {
                        let new = ptrace::getevent(pid).context("a new process's id")?;
                        pids.insert(Pid::from_raw(new as i32));
                    }
                }
                ptrace::cont(pid, None).context("continue after an event")?;
            }
            _ => {}
        }
    }
    Ok(trace)
}

/// A breakpoint on every function of `pid`'s memory.
fn arm(pid: Pid, original: &HashMap<u64, u64>) -> Result<()> {
    for &addr in original.keys() {
        let word = peek(pid, addr)?;
        poke(pid, addr, (word & !0xff) | INT3)?;
    }
    Ok(())
}

/// The words from `sp` up to the end of the stack's mapping (or an unreadable word).
fn stack_words(pid: Pid, sp: u64) -> Vec<u64> {
    (0..64 * 1024 / 8)
        .map_while(|i| peek(pid, sp + i * 8).ok())
        .collect()
}

fn peek(pid: Pid, addr: u64) -> Result<u64> {
    ptrace::read(pid, addr as ptrace::AddressType)
        .map(|w| w as u64)
        .with_context(|| format!("read {addr:#x} of {pid}"))
}

fn poke(pid: Pid, addr: u64, word: u64) -> Result<()> {
    ptrace::write(pid, addr as ptrace::AddressType, word as libc::c_long)
        .with_context(|| format!("write {addr:#x} of {pid}"))
}
