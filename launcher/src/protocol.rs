//! What crosses between box's processes, as types: the steps of a start, the child's messages
//! to the parent on its report pipe, the monitor's one report to `box up -d`, and the exit
//! codes box answers with.
//!
//! On the wire each message is one line: a tag, then tab-separated fields, the free-text
//! message last (newlines folded). Decoding is strict: a line that is not a message is an
//! error of the start, never skipped.

use std::fmt;
use std::time::Duration;

use nix::errno::Errno;

/// Docker's exit codes for a container that did not run its command, and the shell's for one
/// that did.
pub mod exit_code {
    /// box could not start the container (the message says which step failed).
    pub const CANNOT_START: i32 = 125;
    /// The command exists but could not be executed.
    pub const CANNOT_EXECUTE: i32 = 126;
    /// The command was not found.
    pub const NOT_FOUND: i32 = 127;

    /// A command killed by signal `signo`: 128 + N, as the shell and `docker run` say it.
    pub fn signaled(signo: i32) -> i32 {
        128 + signo
    }
}

/// One step of the start sequence, in the parent or in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    // The parent's.
    Prepare,
    /// An overlay root's upper and work directories.
    RootfsDirs,
    Cgroup,
    Network,
    Clone,
    IdMaps,
    CgroupJoin,
    NetworkAttach,
    /// A hybrid host's v1 cgroups made, while the child builds its root.
    CgroupV1,
    /// The binds of the root's `/sys/fs/cgroup` made, once the child asked (its asking
    /// awaited), while it enters its root.
    CgroupView,
    /// The cgroup's device policy installed, while the child builds its root.
    DevicePolicy,
    /// Orphaned cgroups of dead boxes removed, while the child builds its root.
    CgroupSweep,
    // The child's, in order.
    Start,
    WaitForBox,
    JoinNamespaces,
    CloseFds,
    UserNamespace,
    CgroupNamespace,
    Hostname,
    NetworkSetup,
    Sysctls,
    Rootfs,
    Terminal,
    Workdir,
    User,
    Chdir,
    SignalDispositions,
    CloseOnExec,
    Hold,
    Security,
    SignalMask,
    Exec,
    // The parent's, after the container's end (undone last made first).
    ReleaseNetwork,
    RemoveCgroup,
    RemoveRootfsDirs,
}

impl Step {
    const ALL: [Step; 35] = [
        Step::Prepare,
        Step::RootfsDirs,
        Step::Cgroup,
        Step::Network,
        Step::Clone,
        Step::IdMaps,
        Step::CgroupJoin,
        Step::NetworkAttach,
        Step::CgroupV1,
        Step::CgroupView,
        Step::DevicePolicy,
        Step::CgroupSweep,
        Step::Start,
        Step::WaitForBox,
        Step::JoinNamespaces,
        Step::CloseFds,
        Step::UserNamespace,
        Step::CgroupNamespace,
        Step::Hostname,
        Step::NetworkSetup,
        Step::Sysctls,
        Step::Rootfs,
        Step::Terminal,
        Step::Workdir,
        Step::User,
        Step::Chdir,
        Step::SignalDispositions,
        Step::CloseOnExec,
        Step::Hold,
        Step::Security,
        Step::SignalMask,
        Step::Exec,
        Step::ReleaseNetwork,
        Step::RemoveCgroup,
        Step::RemoveRootfsDirs,
    ];

    /// The name `box up --timings` and error messages use.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Prepare => "prepare",
            Step::RootfsDirs => "rootfs dirs",
            Step::Cgroup => "cgroup",
            Step::Network => "network",
            Step::Clone => "clone",
            Step::IdMaps => "uid/gid maps",
            Step::CgroupJoin => "cgroup join",
            Step::NetworkAttach => "network attach",
            Step::CgroupV1 => "cgroup v1",
            Step::CgroupView => "cgroup view",
            Step::DevicePolicy => "device policy",
            Step::CgroupSweep => "cgroup sweep",
            Step::Start => "start",
            Step::WaitForBox => "wait for box",
            Step::JoinNamespaces => "join namespaces",
            Step::CloseFds => "close fds",
            Step::UserNamespace => "user namespace",
            Step::CgroupNamespace => "cgroup namespace",
            Step::Hostname => "hostname",
            Step::NetworkSetup => "network setup",
            Step::Sysctls => "sysctls",
            Step::Rootfs => "rootfs",
            Step::Terminal => "terminal",
            Step::Workdir => "workdir",
            Step::User => "user",
            Step::Chdir => "chdir",
            Step::SignalDispositions => "signal dispositions",
            Step::CloseOnExec => "close-on-exec",
            Step::Hold => "hold",
            Step::Security => "security",
            Step::SignalMask => "signal mask",
            Step::Exec => "exec",
            Step::ReleaseNetwork => "release network",
            Step::RemoveCgroup => "remove cgroup",
            Step::RemoveRootfsDirs => "remove rootfs dirs",
        }
    }

    fn from_str(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<20}` lines up a table of steps.
        f.pad(self.as_str())
    }
}

/// What the child tells the parent on its report pipe. A successful `execve` closes the pipe:
/// EOF without a `Failed` means the command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildMessage {
    /// A step is done, and how long it took (only when timings are asked for).
    Timing { step: Step, elapsed: Duration },
    /// A step failed; the child exits after sending this.
    Failed {
        step: Step,
        errno: Errno,
        message: String,
    },
    /// Held before `execve` ([`crate::create`]): everything up to the security filters is
    /// done, the child closes the pipe after this and waits to be started.
    Ready,
}

/// How a container that never ran its command failed: by step, for the exit code.
pub fn start_failure_code(step: Step, errno: Errno) -> i32 {
    match (step, errno) {
        (Step::Exec, Errno::ENOENT | Errno::ENOTDIR) => exit_code::NOT_FOUND,
        (Step::Exec, _) => exit_code::CANNOT_EXECUTE,
        _ => exit_code::CANNOT_START,
    }
}

/// What the monitor of a detached container tells the `box up -d` that forked it, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorMessage {
    /// The container runs.
    Running,
    /// It did not start: the exit code `box up -d` answers with, and why.
    Failed { code: i32, message: String },
}

/// A line that is not a message of its protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable message {line:?}")]
pub struct BadMessage {
    pub line: String,
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

impl ChildMessage {
    pub fn encode(&self) -> String {
        match self {
            ChildMessage::Timing { step, elapsed } => {
                format!("T\t{}\t{}\n", step.as_str(), elapsed.as_micros())
            }
            ChildMessage::Failed {
                step,
                errno,
                message,
            } => format!(
                "E\t{}\t{}\t{}\n",
                step.as_str(),
                *errno as i32,
                one_line(message)
            ),
            ChildMessage::Ready => "R\n".into(),
        }
    }

    pub fn decode(line: &str) -> Result<ChildMessage, BadMessage> {
        let bad = || BadMessage { line: line.into() };
        if line == "R" {
            return Ok(ChildMessage::Ready);
        }
        let mut fields = line.splitn(4, '\t');
        let (tag, step) = (fields.next(), fields.next().and_then(Step::from_str));
        match (tag, step, fields.next(), fields.next()) {
            (Some("T"), Some(step), Some(micros), None) => Ok(ChildMessage::Timing {
                step,
                elapsed: Duration::from_micros(micros.parse().map_err(|_| bad())?),
            }),
            (Some("E"), Some(step), Some(errno), Some(message)) => Ok(ChildMessage::Failed {
                step,
                errno: Errno::from_raw(errno.parse().map_err(|_| bad())?),
                message: message.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

impl MonitorMessage {
    pub fn encode(&self) -> String {
        match self {
            MonitorMessage::Running => "R\n".into(),
            MonitorMessage::Failed { code, message } => {
                format!("E\t{code}\t{}\n", one_line(message))
            }
        }
    }

    pub fn decode(text: &str) -> Result<MonitorMessage, BadMessage> {
        let bad = || BadMessage { line: text.into() };
        let line = text.strip_suffix('\n').ok_or_else(bad)?;
        if line == "R" {
            return Ok(MonitorMessage::Running);
        }
        match line.splitn(3, '\t').collect::<Vec<_>>()[..] {
            ["E", code, message] => Ok(MonitorMessage::Failed {
                code: code.parse().map_err(|_| bad())?,
                message: message.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_one_name() {
        for step in Step::ALL {
            assert_eq!(Step::from_str(step.as_str()), Some(step));
        }
        assert_eq!(format!("[{:<8}]", Step::Exec), "[exec    ]");
    }

    #[test]
    fn child_messages_round_trip() {
        for msg in [
            ChildMessage::Timing {
                step: Step::Rootfs,
                elapsed: Duration::from_micros(1500),
            },
            ChildMessage::Failed {
                step: Step::Exec,
                errno: Errno::ENOENT,
                message: "exec \"/bin/nope\": No such file".into(),
            },
            ChildMessage::Ready,
        ] {
            let line = msg.encode();
            assert_eq!(ChildMessage::decode(line.trim_end()), Ok(msg));
        }
        let folded = ChildMessage::Failed {
            step: Step::User,
            errno: Errno::EPERM,
            message: "two\nlines\ttab".into(),
        }
        .encode();
        assert_eq!(folded.matches('\n').count(), 1);
        assert!(ChildMessage::decode(folded.trim_end()).is_ok());
    }

    #[test]
    fn garbage_is_an_error_not_skipped() {
        for line in [
            "",
            "T\trootfs",
            "T\tnope\t1",
            "E\texec\tx\tmsg",
            "X\texec\t1\tm",
        ] {
            assert!(ChildMessage::decode(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn exit_codes_follow_the_step_not_the_text() {
        assert_eq!(start_failure_code(Step::Exec, Errno::ENOENT), 127);
        assert_eq!(start_failure_code(Step::Exec, Errno::EACCES), 126);
        assert_eq!(start_failure_code(Step::Workdir, Errno::ENOENT), 125);
        assert_eq!(exit_code::signaled(9), 137);
    }

    #[test]
    fn monitor_messages_round_trip() {
        let failed = MonitorMessage::Failed {
            code: 127,
            message: "exec \"x\": not found\tat all".into(),
        };
        for msg in [MonitorMessage::Running, failed] {
            assert_eq!(MonitorMessage::decode(&msg.encode()), Ok(msg));
        }
        let two_lines = MonitorMessage::Failed {
            code: 125,
            message: "one\ntwo".into(),
        };
        assert_eq!(
            MonitorMessage::decode(&two_lines.encode()),
            Ok(MonitorMessage::Failed {
                code: 125,
                message: "one two".into()
            })
        );
        assert!(MonitorMessage::decode("").is_err());
        assert!(MonitorMessage::decode("R").is_err());
        assert!(MonitorMessage::decode("E\tx\tm\n").is_err());
    }
}
