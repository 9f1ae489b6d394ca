//! Test helpers: forked children with namespaces of their own, and a switch
//! that makes this thread behave as on a kernel without the newer mount and
//! open calls, so that the fallbacks are exercised too.

use std::cell::Cell;

use nix::mount::MsFlags;
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

thread_local! {
    static OLD_KERNEL: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread pretends to run on Linux < 5.2 (no new mount API,
/// no `openat2`, no `mount_setattr`).
pub(crate) fn old_kernel() -> bool {
    OLD_KERNEL.get()
}

pub(crate) fn pretend_old_kernel() {
    OLD_KERNEL.set(true);
}

/// Forks a child that unshares `flags` (a mount namespace gets a private
/// `/`), runs `f` and exits 0 if it returned `Ok`.
pub(crate) fn spawn(flags: CloneFlags, f: impl FnOnce() -> Result<(), String>) -> Pid {
    // SAFETY: the child only runs `f` and leaves with _exit, never returning
    // into the test harness.
    match unsafe { fork() }.unwrap() {
        ForkResult::Child => {
            let code = match enter(flags) {
                Err(msg) => {
                    report(&msg);
                    2
                }
                Ok(()) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                    Ok(Ok(())) => 0,
                    Ok(Err(msg)) => {
                        report(&msg);
                        1
                    }
                    Err(_) => 3,
                },
            };
            // SAFETY: _exit is always safe.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    }
}

/// To fd 2 itself: the harness's capture of `eprintln!` dies with the child.
fn report(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn enter(flags: CloneFlags) -> Result<(), String> {
    unshare(flags).map_err(|e| format!("unshare: {e}"))?;
    if flags.contains(CloneFlags::CLONE_NEWNS) {
        let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        nix::mount::mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
            .map_err(|e| format!("make / private: {e}"))?;
    }
    Ok(())
}

/// Asserts that `child` exited 0.
pub(crate) fn wait_ok(child: Pid) {
    assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
}

/// Runs `f` in a forked child with its own mount namespace.
pub(crate) fn in_mount_ns(f: impl FnOnce() -> Result<(), String>) {
    wait_ok(spawn(CloneFlags::CLONE_NEWNS, f));
}
