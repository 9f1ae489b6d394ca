//! Supervision of a running container: forward signals, copy its terminal (in the foreground)
//! or its output pipe into a log (detached), wait for it, and say how it ended.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, write};

use crate::Running;
use crate::{tty, Error, Timing};

/// How the container's command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

/// The end of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: ExitStatus,
    /// The kernel's OOM killer killed a process of the container's cgroup.
    pub oom_killed: bool,
    pub timings: Vec<Timing>,
    /// Removing what the start made on the host (the cgroup, ...) failed: why. The command's
    /// end is known all the same, and says how it ended.
    pub teardown_error: Option<String>,
}

impl Outcome {
    /// The shell's convention, as `docker run` follows it: the code, or 128 + the signal.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => crate::exit_code::signaled(sig),
        }
    }
}

/// A detached container's output: the read end of the one pipe that is its stdout and stderr
/// (so the container never holds a file of the host), and where what it reads goes.
///
/// The supervising process must hold no copy of the pipe's write end, or it never sees the
/// end of the output.
pub struct Output {
    pub pipe: OwnedFd,
    pub sink: Box<dyn Sink>,
}

/// Where a detached container's output goes, chunk by chunk as it is read, in the
/// supervisor's own loop (no thread).
pub trait Sink {
    /// Takes the next bytes of output. A failure (a full disk) loses them: the pipe is read
    /// all the same, since the container must never block on its stdout.
    fn put(&mut self, bytes: &[u8]);
}

/// A file (or pipe) the output is copied into as it is.
impl Sink for OwnedFd {
    fn put(&mut self, bytes: &[u8]) {
        write_all(self.as_fd(), bytes);
    }
}

/// Writes all of `bytes` to `to`; false when a write failed (the rest is lost).
fn write_all(to: BorrowedFd<'_>, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match write(to, bytes) {
            Ok(k) => bytes = &bytes[k..],
            Err(Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}

impl Running {
    /// Forwards signals and the terminal until the container exits, then removes what its start
    /// made (its cgroup, killing whatever is left in it). `Err` only when waiting for it
    /// failed; a failure to remove is [`Outcome::teardown_error`].
    pub fn supervise(self) -> Result<Outcome, Error> {
        self.supervise_with(None)
    }

    /// [`Running::supervise`], copying the container's output from `output.pipe` to
    /// `output.sink` as it comes, in the same loop (no thread): until the last writer is gone,
    /// or, once the command exited, until the pipe has been quiet for a moment; whatever the
    /// processes the cgroup removal kills wrote is copied after it.
    pub fn supervise_output(self, output: Output) -> Result<Outcome, Error> {
        // Non-blocking, so that draining it never waits on the container.
        let nonblocking = fcntl(&output.pipe, FcntlArg::F_GETFL).and_then(|flags| {
            let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
            fcntl(&output.pipe, FcntlArg::F_SETFL(flags))
        });
        if let Err(errno) = nonblocking {
            // Unread, its stdout would block it: end it, and clean up as always.
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.supervise_with(None);
            return Err(Error::sys("make the output pipe non-blocking")(errno));
        }
        self.supervise_with(Some(output))
    }

    fn supervise_with(mut self, mut output: Option<Output>) -> Result<Outcome, Error> {
        let raw_mode = self.tty_master.as_ref().and_then(|_| tty::RawMode::enter());
        if let Some(master) = &self.tty_master {
            tty::copy_window_size(master.as_fd());
        }
        let status = self.wait_loop(output.as_mut());
        drop(raw_mode);
        let oom_killed = match &self.cgroup {
            Some(cg) if self.owns_cgroup && status.is_ok() => cg.oom_killed().unwrap_or(false),
            _ => false,
        };
        // Also when waiting failed: removing the cgroup kills whatever still runs in it, and
        // nothing the start made may outlive its supervisor.
        let timings = self.timed.then_some(&mut self.timings);
        let undone = self.undo.unwind_timed(timings);
        if let Some(out) = &mut output {
            // Bounded: a writer that escaped the cgroup cannot keep the monitor here.
            for _ in 0..FINAL_DRAIN_ROUNDS {
                if pump(out.pipe.as_fd(), out.sink.as_mut()) != Pumped::More {
                    break;
                }
            }
        }
        let _ = self.signals.thread_unblock();
        Ok(Outcome {
            status: status?,
            oom_killed,
            timings: std::mem::take(&mut self.timings),
            teardown_error: undone.err().map(|e| e.to_string()),
        })
    }

    fn wait_loop(&mut self, mut output: Option<&mut Output>) -> Result<ExitStatus, Error> {
        let signals = SignalFd::with_flags(
            &self.signals,
            SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
        )
        .map_err(Error::sys("signalfd"))?;
        let stdin = std::io::stdin();
        // A terminal that ends (its window closed) reads as EOF or EIO; a pipe's end is only
        // the end of input.
        let stdin_is_terminal = nix::unistd::isatty(&stdin).unwrap_or(false);
        let mut stdin_open = self.tty_master.is_some();
        let mut master_open = self.tty_master.is_some();
        let mut output_open = output.is_some();
        let mut status = self.reap()?;
        while status.is_none() || master_open || output_open {
            let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
            let (mut master_at, mut stdin_at, mut output_at) = (None, None, None);
            if let Some(master) = self.tty_master.as_ref().filter(|_| master_open) {
                master_at = watch(&mut fds, master.as_fd());
                if stdin_open && status.is_none() {
                    stdin_at = watch(&mut fds, stdin.as_fd());
                }
            }
            if let Some(out) = output.as_ref().filter(|_| output_open) {
                output_at = watch(&mut fds, out.pipe.as_fd());
            }
            // Readable once the container's process exited, whichever thread SIGCHLD went to
            // (a caller of the launcher may have threads that do not block it).
            if let Some(pidfd) = self.pidfd.as_ref().filter(|_| status.is_none()) {
                watch(&mut fds, pidfd.as_fd());
            }
            // Once the command exited, only drain what its terminal or pipe still holds.
            let timeout = if status.is_some() { 50u16 } else { u16::MAX };
            match poll(&mut fds, PollTimeout::from(timeout)) {
                Ok(0) if status.is_some() => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::sys("poll")(errno)),
            }
            let ready = |i: Option<usize>| {
                i.and_then(|i| fds.get(i))
                    .and_then(|f| f.revents())
                    .is_some_and(|r| !r.is_empty())
            };
            let sig_ready = ready(Some(0));
            let (master_ready, stdin_ready) = (ready(master_at), ready(stdin_at));
            let output_ready = ready(output_at);
            drop(fds);
            if sig_ready {
                while let Ok(Some(info)) = signals.read_signal() {
                    self.forward(info.ssi_signo as i32);
                }
            }
            if let Some(master) = self.tty_master.as_ref() {
                if master_ready {
                    master_open = copy(master.as_fd(), std::io::stdout().as_fd());
                }
                if stdin_ready {
                    stdin_open = copy(stdin.as_fd(), master.as_fd());
                }
            }
            if !stdin_open && stdin_is_terminal && status.is_none() && master_open {
                // box's terminal hung up: so does the container's (its last master fd
                // closes), as the kernel hangs up a session whose terminal goes away; its
                // shell reads EIO and ends instead of waiting for a terminal nobody has.
                self.tty_master = None;
                master_open = false;
            }
            if let Some(out) = output.as_mut().filter(|_| output_ready) {
                output_open = pump(out.pipe.as_fd(), out.sink.as_mut()) != Pumped::Eof;
            }
            if status.is_none() {
                status = self.reap()?;
            }
        }
        status.ok_or(Error::ChildVanished)
    }

    fn forward(&self, signo: i32) {
        let Ok(sig) = Signal::try_from(signo) else {
            return;
        };
        match sig {
            Signal::SIGCHLD => {}
            Signal::SIGWINCH => {
                if let Some(master) = &self.tty_master {
                    tty::copy_window_size(master.as_fd());
                }
            }
            // ESRCH: it just exited; the next reap sees it.
            sig => drop(kill(self.pid, sig)),
        }
    }

    fn reap(&self) -> Result<Option<ExitStatus>, Error> {
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(Some(ExitStatus::Exited(code))),
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    return Ok(Some(ExitStatus::Signaled(sig as i32)))
                }
                Ok(_) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(Error::sys("wait for the container")(errno)),
            }
        }
    }
}

/// Adds `fd` to the poll set; its index there.
fn watch<'fd>(fds: &mut Vec<PollFd<'fd>>, fd: BorrowedFd<'fd>) -> Option<usize> {
    fds.push(PollFd::new(fd, PollFlags::POLLIN));
    Some(fds.len() - 1)
}

/// What [`pump`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pumped {
    /// Every writer is gone (or the pipe failed): nothing more will come.
    Eof,
    /// The pipe is empty for now.
    Drained,
    /// It stopped after its budget with more to read, so that signals are not kept waiting.
    More,
}

/// Chunks one [`pump`] copies at most.
const PUMP_ROUNDS: usize = 16;

/// Budgets of [`PUMP_ROUNDS`] the copy after the cgroup removal gets at most.
const FINAL_DRAIN_ROUNDS: usize = 64;

/// Copies what a non-blocking pipe holds into `sink`.
fn pump(pipe: BorrowedFd<'_>, sink: &mut dyn Sink) -> Pumped {
    // Not zeroed: only the pages a read fills are touched (a monitor keeps few).
    let mut buf = [MaybeUninit::<u8>::uninit(); 32 * 1024];
    for _ in 0..PUMP_ROUNDS {
        // SAFETY: read(2) writes at most `buf.len()` bytes into `buf`, which this frame owns.
        let n = unsafe { libc::read(pipe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        let n = match Errno::result(n) {
            Ok(0) => return Pumped::Eof,
            Ok(n) => n as usize,
            Err(Errno::EAGAIN) => return Pumped::Drained,
            Err(Errno::EINTR) => continue,
            Err(_) => return Pumped::Eof,
        };
        // SAFETY: the kernel initialized the first `n` bytes (n <= buf.len()).
        sink.put(unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) });
    }
    Pumped::More
}

/// Copies what is ready from `from` to `to`; false at EOF (or EIO: the pty's last slave closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 4096];
    let n = match read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    write_all(to, &buf[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::pipe;
    use std::os::fd::FromRawFd;

    fn nonblocking(fd: &OwnedFd) {
        fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
    }

    #[test]
    fn pump_copies_until_the_writers_are_gone() {
        let (out_r, out_w) = pipe().unwrap();
        let (sink_r, sink_w) = pipe().unwrap();
        nonblocking(&out_r);
        nonblocking(&sink_r);
        write(&out_w, b"one ").unwrap();
        write(&out_w, b"two").unwrap();
        let mut sink = sink_w;
        assert_eq!(pump(out_r.as_fd(), &mut sink), Pumped::Drained);
        drop(out_w);
        assert_eq!(pump(out_r.as_fd(), &mut sink), Pumped::Eof);
        let mut buf = [0u8; 16];
        let n = read(sink_r.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"one two");
    }

    #[test]
    fn a_failing_sink_does_not_stop_the_reading() {
        let (out_r, out_w) = pipe().unwrap();
        let (sink_r, _sink_w) = pipe().unwrap();
        nonblocking(&out_r);
        write(&out_w, b"lost").unwrap();
        // The read end of a pipe cannot be written: every write fails (EBADF).
        let mut sink = sink_r;
        assert_eq!(pump(out_r.as_fd(), &mut sink), Pumped::Drained);
        let mut buf = [0u8; 4];
        assert_eq!(read(out_r.as_fd(), &mut buf), Err(Errno::EAGAIN));
    }

    #[test]
    fn a_busy_pipe_yields_after_its_budget() {
        let (out_r, out_w) = pipe().unwrap();
        let (_sink_r, sink_w) = pipe().unwrap();
        nonblocking(&out_r);
        nonblocking(&sink_w);
        // Room for more than one budget of chunks.
        fcntl(&out_w, FcntlArg::F_SETPIPE_SZ(1 << 20)).unwrap();
        let chunk = [b'x'; 4096];
        let mut written = 0;
        while written <= PUMP_ROUNDS * 32 * 1024 {
            written += write(&out_w, &chunk).unwrap();
        }
        let mut sink = sink_w;
        assert_eq!(pump(out_r.as_fd(), &mut sink), Pumped::More);
    }

    struct FailingUndo;

    impl crate::undo::Undo for FailingUndo {
        fn step(&self) -> crate::Step {
            crate::Step::RemoveCgroup
        }

        fn undo(self: Box<Self>) -> Result<(), Error> {
            Err(Error::InvalidSpec("the cgroup would not go".into()))
        }
    }

    /// A teardown that fails must not cost the container its exit status: the monitor records
    /// the code and the reason apart.
    #[test]
    fn a_failed_teardown_keeps_the_exit_status() {
        // Blocked in this thread only, as the launcher blocks them before it clones.
        let signals = crate::running::supervised_signals();
        signals.thread_block().unwrap();
        // SAFETY: the child only calls _exit, which is async-signal-safe.
        let child = match unsafe { nix::unistd::fork() }.unwrap() {
            // SAFETY: _exit ends the child at once.
            nix::unistd::ForkResult::Child => unsafe { libc::_exit(7) },
            nix::unistd::ForkResult::Parent { child } => child,
        };
        let mut running = Running::new("teardown", signals);
        running.pid = child;
        // As the launcher's clone3 gives it: the test harness's other threads do not block
        // SIGCHLD, so the signalfd may never see the child's end.
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
        // SAFETY: a new fd of this process's, owned from here on.
        running.pidfd = Some(unsafe { OwnedFd::from_raw_fd(i32::try_from(pidfd).unwrap()) });
        running.undo.push(FailingUndo);
        let outcome = running.supervise().unwrap();
        assert_eq!(outcome.status, ExitStatus::Exited(7));
        assert_eq!(
            outcome.teardown_error.as_deref(),
            Some("invalid container spec: the cgroup would not go")
        );
    }
}
