//! Supervision of a running container in the foreground: forward signals, copy its terminal,
//! wait for it, and say how it ended.

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{read, write};

use crate::parent::Running;
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
}

impl Outcome {
    /// The shell's convention, as `docker run` follows it: the code, or 128 + the signal.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => 128 + sig,
        }
    }
}

impl Running {
    /// Forwards signals and the terminal until the container exits, then removes its cgroup.
    pub fn supervise(mut self) -> Result<Outcome, Error> {
        let raw_mode = self.tty_master.as_ref().and_then(|_| tty::RawMode::enter());
        if let Some(master) = &self.tty_master {
            tty::copy_window_size(master.as_fd());
        }
        let status = self.wait_loop();
        drop(raw_mode);
        let status = status?;
        let oom_killed = match &self.cgroup {
            Some(cg) if self.owns_cgroup => cg.oom_killed().unwrap_or(false),
            _ => false,
        };
        self.remove_cgroup()?;
        let _ = self.signals.thread_unblock();
        Ok(Outcome {
            status,
            oom_killed,
            timings: std::mem::take(&mut self.timings),
        })
    }

    fn wait_loop(&mut self) -> Result<ExitStatus, Error> {
        let signals = SignalFd::with_flags(
            &self.signals,
            SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
        )
        .map_err(Error::sys("signalfd"))?;
        let stdin = std::io::stdin();
        let mut stdin_open = self.tty_master.is_some();
        let mut master_open = self.tty_master.is_some();
        let mut status = self.reap()?;
        while status.is_none() || master_open {
            let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
            if let Some(master) = self.tty_master.as_ref().filter(|_| master_open) {
                fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
                if stdin_open && status.is_none() {
                    fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
                }
            }
            // Once the command exited, only drain what its terminal still holds.
            let timeout = if status.is_some() { 50u16 } else { u16::MAX };
            match poll(&mut fds, PollTimeout::from(timeout)) {
                Ok(0) if status.is_some() => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(Error::sys("poll")(errno)),
            }
            let ready = |i: usize| {
                fds.get(i)
                    .and_then(|f| f.revents())
                    .is_some_and(|r| !r.is_empty())
            };
            let (sig_ready, master_ready, stdin_ready) = (ready(0), ready(1), ready(2));
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

/// Copies what is ready from `from` to `to`; false at EOF (or EIO: the pty's last slave closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 4096];
    let n = match read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match write(to, rest) {
            Ok(k) => rest = &rest[k..],
            Err(Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}
