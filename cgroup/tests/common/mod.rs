//! Running one test of this binary again in a child process with a private mount namespace
//! of its own, so that what it mounts never reaches the host and goes away with it.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// Set in the child, to what the parent passed.
const CHILD: &str = "BOX_CGROUP_TEST_CHILD";

/// In the child: what the parent passed; `None` in the parent.
pub fn child_arg() -> Option<OsString> {
    std::env::var_os(CHILD)
}

/// Run the test `name` of this binary in a child with its own private mount namespace,
/// handing it `arg` (see [`child_arg`]); panics if it fails.
pub fn run_in_own_mount_namespace(name: &str, arg: impl Into<OsString>) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, arg.into());
    // SAFETY: only unshare(2) and mount(2) run between fork and exec (the path is short
    // enough for nix to pass it on the stack): no allocation, no lock.
    unsafe {
        child.pre_exec(|| {
            unshare(CloneFlags::CLONE_NEWNS)?;
            let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
            mount(None::<&str>, "/", None::<&str>, private, None::<&str>)?;
            Ok(())
        });
    }
    let status = child.status().unwrap();
    assert!(
        status.success(),
        "the child running {name} failed: {status}"
    );
}

pub fn assert_root(why: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test {why}: run it as root"
    );
}
