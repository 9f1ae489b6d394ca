//! A pseudo-terminal the test owns, as a terminal emulator does: the program runs on its
//! slave as a session leader with it as controlling terminal (so resizing the master sends it
//! SIGWINCH), and the test types into and reads from the master.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};

/// How long a test waits for what it expects before it fails: bounded, never a measurement.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub struct Pty {
    master: File,
    slave: Option<OwnedFd>,
    output: Receiver<Vec<u8>>,
    /// Everything read so far, and how far `expect` has consumed it.
    text: String,
    cursor: usize,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn winsize(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    pub fn new(rows: u16, cols: u16) -> Pty {
        let pair = openpty(Some(&winsize(rows, cols)), None).expect("openpty");
        // Close-on-exec, so that no program the tests start (box included) holds the master:
        // it would keep the terminal from ever hanging up.
        for fd in [&pair.master, &pair.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
        }
        let master = File::from(pair.master);
        let mut reader = master.try_clone().expect("dup the pty master");
        let (tx, output) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Polled, so that `hang_up` can end it and close its copy of the master.
            while !stopped.load(Ordering::Relaxed) {
                let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::from(100u16)) {
                    Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                    Ok(_) => {}
                    Err(_) => break,
                }
                // EIO once every slave fd is closed: the program ended.
                match reader.read(&mut buf) {
                    Ok(n @ 1..) if tx.send(buf[..n].to_vec()).is_ok() => {}
                    _ => break,
                }
            }
        });
        Pty {
            master,
            slave: Some(pair.slave),
            output,
            text: String::new(),
            cursor: 0,
            stop,
            thread: Some(thread),
        }
    }

    /// Starts `cmd` on the slave: stdin, stdout and stderr, its controlling terminal, the
    /// foreground of its own session. The test keeps no slave fd.
    pub fn spawn(&mut self, cmd: &mut Command) -> Child {
        let slave = self.slave.take().expect("one program per pty");
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty slave"));
        cmd.stdin(io(&slave)).stdout(io(&slave)).stderr(io(&slave));
        // SAFETY: between fork and exec only async-signal-safe calls: setsid and an ioctl on
        // fd 0 (the slave) with an int argument.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn().expect("spawn on the pty")
    }

    pub fn type_line(&mut self, line: &str) {
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .expect("type into the terminal");
    }

    /// Sets the terminal's size, as a terminal emulator's window resize does: the kernel
    /// sends SIGWINCH to the slave's foreground process group.
    pub fn resize(&self, rows: u16, cols: u16) {
        let size = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize struct, which outlives the call.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    }

    /// Waits (at most [`DEADLINE`]) for the next text between `open` and `close` after what
    /// was consumed, and consumes it; panics with everything seen if it never comes.
    pub fn next_between(&mut self, open: &str, close: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let rest = &self.text[self.cursor..];
            if let Some(start) = rest.find(open) {
                let from = start + open.len();
                if let Some(len) = rest[from..].find(close) {
                    let found = rest[from..from + len].to_string();
                    self.cursor += from + len + close.len();
                    return found;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no {open}…{close} on the terminal; it showed:\n{}",
                        self.text
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the terminal closed before {open}…{close}:\n{}", self.text)
                }
            }
        }
    }

    /// Closes the terminal, as closing a terminal emulator's window does: every master fd
    /// goes (the reader's too), and the slave side is hung up.
    pub fn hang_up(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the pty reader");
        }
    }

    /// Everything the terminal showed.
    pub fn text(&self) -> &str {
        &self.text
    }
}
