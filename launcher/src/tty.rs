//! Pseudo-terminals: the container's side (a pty on its own devpts, made its controlling
//! terminal) and the host's side (raw mode on box's terminal, restored on every exit path).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::stat::Mode;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, setsid};

use crate::Error;

/// In the container, after its `/dev/pts` is mounted: opens a new pty, makes its slave the
/// controlling terminal and stdio of this process. Returns the master and the slave's path.
pub(crate) fn open_in_container() -> Result<(OwnedFd, PathBuf), Error> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(Error::sys("open /dev/ptmx"))?;
    grantpt(&master).map_err(Error::sys("grantpt"))?;
    unlockpt(&master).map_err(Error::sys("unlockpt"))?;
    let slave_path = PathBuf::from(ptsname_r(&master).map_err(Error::sys("ptsname"))?);
    let slave = open(&slave_path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(Error::sys("open the pty slave"))?;
    setsid().map_err(Error::sys("setsid"))?;
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal); the fd is a valid pty slave.
    let ret = unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) };
    Errno::result(ret).map_err(Error::sys("make the pty the controlling terminal"))?;
    dup2_stdin(&slave).map_err(Error::sys("dup the pty to stdin"))?;
    dup2_stdout(&slave).map_err(Error::sys("dup the pty to stdout"))?;
    dup2_stderr(&slave).map_err(Error::sys("dup the pty to stderr"))?;
    Ok((master.into(), slave_path))
}

/// Sends the pty master to the parent over a unix socket.
pub(crate) fn send_master(socket: BorrowedFd<'_>, master: BorrowedFd<'_>) -> Result<(), Error> {
    crate::fdpass::send(socket, b'm', master, "send the pty master to box")
}

/// Receives the pty master; `None` when the child closed the socket without sending one
/// (it failed before; its report says why).
pub(crate) fn receive_master(socket: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Error> {
    crate::fdpass::receive(socket, "receive the pty master")
}

/// box's own terminal in raw mode for as long as this lives.
pub(crate) struct RawMode {
    fd: RawFd,
    saved: Termios,
}

impl RawMode {
    /// Puts stdin in raw mode if it is a terminal.
    pub(crate) fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode {
            fd: stdin.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: fd 0 stays open for the life of the process.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = tcsetattr(fd, SetArg::TCSANOW, &self.saved);
    }
}

/// Copies box's terminal size to the container's pty.
pub(crate) fn copy_window_size(master: BorrowedFd<'_>) {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read/write one winsize struct that we own.
    unsafe {
        if libc::ioctl(libc::STDIN_FILENO, libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}
