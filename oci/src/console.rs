//! `--console-socket`: the container's pty master goes to the caller (conmon, the shim) over a
//! unix socket, as an SCM_RIGHTS message, the way runc sends it.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use anyhow::{Context, Result};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};

/// Sends `master` to the socket at `path`, after setting its size (rows, columns) if given.
pub fn send(path: &Path, master: BorrowedFd<'_>, size: Option<(u16, u16)>) -> Result<()> {
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize struct that we own; the fd is a pty master.
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("console socket")?;
    let addr = UnixAddr::new(path).with_context(|| format!("console socket {}", path.display()))?;
    connect(sock.as_raw_fd(), &addr)
        .with_context(|| format!("connect to console socket {}", path.display()))?;
    let fds = [master.as_raw_fd()];
    // runc sends the pty's name as the payload; callers read only the fd.
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(b"/dev/ptmx")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .context("send the terminal to the console socket")?;
    Ok(())
}
