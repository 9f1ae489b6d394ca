//! What box's process does before `run`, in place of std's runtime start-up.
//!
//! std's start-up (`lang_start`) asks glibc for the main thread's stack (`pthread_getattr_np`,
//! which reads and `sscanf`s `/proc/self/maps`) to place a guard, puts a SIGSEGV and SIGBUS
//! handler on an alternate stack to report stack overflows, and names the main thread: about
//! 20 syscalls and ~120 KiB of box's binary faulted in, on every start. box keeps the two parts
//! it needs, below; a stack overflow is then a plain SIGSEGV, without std's message.

use std::ffi::{CStr, OsString};
use std::os::fd::{IntoRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use box_launcher::exit_code::CANNOT_START;

/// Standard fds open, SIGPIPE ignored; exits with [`CANNOT_START`] if `/dev/null` cannot
/// stand in for a closed standard fd.
pub(crate) fn start() {
    if !open_standard_fds() {
        std::process::exit(CANNOT_START);
    }
    // Writes to a closed pipe fail with EPIPE instead of killing box: its channels to the
    // container's process rely on that, and `box ps | head -1` must not kill it.
    // SAFETY: sets a disposition of this process; no memory of ours is involved.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Puts `/dev/null` on each of fds 0, 1 and 2 the caller left closed: else the first file box
/// opens would become its stdout or stderr, and messages would be written into it.
fn open_standard_fds() -> bool {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is an array of 3 valid pollfds, alive for the call; no wait (timeout 0).
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0;
    // In fd order: each open takes the lowest free fd, i.e. the one being checked.
    fds.iter().all(|p| {
        let closed = if polled {
            p.revents & libc::POLLNVAL != 0
        } else {
            is_closed(p.fd)
        };
        !closed || reopen_on_dev_null(p.fd)
    })
}

fn is_closed(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the fd's flags; a closed fd fails with EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    flags < 0 && nix::errno::Errno::last() == nix::errno::Errno::EBADF
}

fn reopen_on_dev_null(fd: RawFd) -> bool {
    match open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
        // Kept open for the process's life, as a standard fd.
        Ok(null) => null.into_raw_fd() == fd,
        Err(_) => false,
    }
}

/// The command line from `main`'s arguments. std's `args_os` needs its own start-up on every
/// C library but glibc (which also passes them to `.init_array` functions), so box reads them
/// where every C library puts them.
///
/// # Safety
/// `argv` holds `argc` pointers to NUL-terminated strings, alive for the process's life.
pub(crate) unsafe fn args(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        .map(|i| {
            // SAFETY: i < argc, and each of the first argc pointers is a valid C string.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect()
}
