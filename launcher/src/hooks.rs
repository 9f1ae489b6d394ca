//! OCI's `createContainer` hooks, run by the container's init after its root is built and
//! before it is entered: in the container's namespaces, `chroot`ed to the host's tree (the
//! runtime's view, where the hook's path resolves), the state JSON on stdin, killed past
//! their timeout. The init is single-threaded: each hook is a plain fork and exec.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, pipe2, ForkResult, Pid};
use serde::{Deserialize, Serialize};

use box_rootfs::HostView;

/// One hook: OCI's `path`, `args` (argv, `args[0]` included), `env`, `timeout` (seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerHook {
    pub path: PathBuf,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// The `createContainer` hooks and the state they read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateContainerHooks {
    pub hooks: Vec<ContainerHook>,
    /// The OCI state as a JSON object without `pid`, which only the init knows as the host
    /// sees it: it is inserted as the object's first member.
    pub state: String,
}

impl CreateContainerHooks {
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Runs every hook in order; the first failure is the error.
    pub(crate) fn run_all(&self, view: &HostView<'_>) -> Result<(), String> {
        let state = with_pid(&self.state, view.pid);
        for hook in &self.hooks {
            run_one(hook, &state, view)
                .map_err(|why| format!("createContainer hook {}: {why}", hook.path.display()))?;
        }
        Ok(())
    }
}

fn with_pid(state: &str, pid: i32) -> String {
    match state.trim().strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"pid\":{pid}}}"),
        Some(rest) => format!("{{\"pid\":{pid},{rest}"),
        None => format!("{{\"pid\":{pid}}}"),
    }
}

fn cstring(bytes: &[u8]) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| "a NUL byte in its path, arguments or environment".into())
}

fn run_one(hook: &ContainerHook, state: &str, view: &HostView<'_>) -> Result<(), String> {
    let path = cstring(hook.path.as_os_str().as_bytes())?;
    let argv: Vec<CString> = match hook.args.is_empty() {
        true => vec![path.clone()],
        false => hook
            .args
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_, _>>()?,
    };
    let env: Vec<CString> = hook
        .env
        .iter()
        .map(|e| cstring(e.as_bytes()))
        .collect::<Result<_, _>>()?;
    let root = cstring(view.root.as_os_str().as_bytes())?;
    let sys = |what: &str, e: Errno| format!("{what}: {e}");
    let (stdin_r, stdin_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| sys("pipe", e))?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| sys("pipe", e))?;
    // SAFETY: the init is single-threaded; the child only makes async-signal-safe calls
    // (everything it needs was allocated above) and then execs or exits.
    let child = match unsafe { fork() }.map_err(|e| sys("fork", e))? {
        ForkResult::Child => exec_hook(&root, &path, &argv, &env, &stdin_r, &err_w),
        ForkResult::Parent { child } => child,
    };
    drop((stdin_r, err_w));
    // A hook that does not read its stdin is not an error (the state is far below a pipe's
    // buffer, so this write does not block).
    let _ = nix::unistd::write(&stdin_w, state.as_bytes());
    drop(stdin_w);
    wait(child, hook.timeout.filter(|&t| t > 0), err_r)
}

/// The hook's process: the host's tree as its root, the state on stdin, its stderr to the
/// init, nothing else open, no signal blocked; then its program.
fn exec_hook(
    root: &CString,
    path: &CString,
    argv: &[CString],
    env: &[CString],
    stdin: &OwnedFd,
    stderr: &OwnedFd,
) -> ! {
    // SAFETY: (all calls) async-signal-safe libc calls on NUL-terminated strings and live
    // fds; the process execs or exits at the end.
    unsafe {
        let ok = libc::chroot(root.as_ptr()) == 0
            && libc::chdir(c"/".as_ptr()) == 0
            && libc::dup2(stdin.as_raw_fd(), 0) == 0
            && libc::dup2(stderr.as_raw_fd(), 2) == 2;
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if !ok || null < 0 || libc::dup2(null, 1) != 1 {
            libc::_exit(126);
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
        let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_p.push(std::ptr::null());
        let mut env_p: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        env_p.push(std::ptr::null());
        libc::execve(path.as_ptr(), argv_p.as_ptr(), env_p.as_ptr());
        let msg = b"exec failed\n";
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}

/// Waits for the hook, reading its stderr as it runs (a full pipe would stall it), killing
/// it past `timeout` seconds.
fn wait(child: Pid, timeout: Option<u64>, err: OwnedFd) -> Result<(), String> {
    let _ = fcntl(&err, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    let started = Instant::now();
    let limit = timeout.map(Duration::from_secs);
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let mut drain = |text: &mut Vec<u8>| {
        while let Ok(n @ 1..) = nix::unistd::read(&err, &mut buf) {
            if text.len() < 64 * 1024 {
                text.extend_from_slice(&buf[..n]);
            }
        }
    };
    loop {
        drain(&mut text);
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => {}
            Ok(WaitStatus::Exited(_, 0)) => return Ok(()),
            Ok(status) => {
                drain(&mut text);
                let said = String::from_utf8_lossy(&text);
                return Err(format!("failed ({}): {}", describe(status), said.trim()));
            }
            Err(e) => return Err(format!("wait: {e}")),
        }
        if limit.is_some_and(|l| started.elapsed() >= l) {
            let _ = kill(child, Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Err(format!("timed out after {}s", timeout.unwrap_or_default()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exit status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by {sig}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_goes_first_into_the_state() {
        assert_eq!(with_pid(r#"{"id":"c"}"#, 7), r#"{"pid":7,"id":"c"}"#);
        assert_eq!(with_pid("{}", 7), r#"{"pid":7}"#);
        assert_eq!(with_pid("", 7), r#"{"pid":7}"#);
    }
}
