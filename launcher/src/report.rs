//! The child's side channel to the parent: a close-on-exec pipe carrying [`ChildMessage`]s.
//! The child sends step timings and at most one failure; a successful `execve` closes the
//! pipe, so the parent reading EOF with no failure knows the command is running.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::errno::Errno;

use crate::protocol::{ChildMessage, Step};
use crate::Error;

/// One step of the start sequence and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub step: Step,
    pub elapsed: Duration,
}

/// The child's end: the pipe, or, once a held child told box it is ready and box went away,
/// nothing (a failure is then written to the container's stderr, for its engine's log).
pub(crate) struct Reporter(Option<std::fs::File>);

impl Reporter {
    pub(crate) fn new(fd: OwnedFd) -> Reporter {
        Reporter(Some(fd.into()))
    }

    pub(crate) fn timing(&mut self, step: Step, elapsed: Duration) {
        // Losing a timing line is harmless; the parent would only show fewer rows.
        if let Some(pipe) = self.0.as_mut() {
            let _ = pipe.write_all(ChildMessage::Timing { step, elapsed }.encode().as_bytes());
        }
    }

    /// Tells the parent the child is held before `execve`, and closes the pipe: the parent
    /// reads EOF and goes its way.
    pub(crate) fn ready(&mut self) -> Result<(), Error> {
        if let Some(mut pipe) = self.0.take() {
            pipe.write_all(ChildMessage::Ready.encode().as_bytes())
                .map_err(|e| Error::Sys {
                    step: "tell box the container is ready",
                    errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
                })?;
        }
        Ok(())
    }

    /// Reports a failed step and ends the child.
    pub(crate) fn fail(&mut self, step: Step, errno: Errno, message: &str) -> ! {
        let Some(pipe) = self.0.as_mut() else {
            // Nobody reads the pipe any more (a held container was started): the engine's log
            // gets the reason, the exit code says which kind of failure it was.
            let _ = std::io::stderr().write_all(format!("box: {}\n", message).as_bytes());
            // SAFETY: as below.
            unsafe { libc::_exit(crate::protocol::start_failure_code(step, errno)) }
        };
        let failed = ChildMessage::Failed {
            step,
            errno,
            message: message.to_string(),
        };
        let _ = pipe.write_all(failed.encode().as_bytes());
        // SAFETY: _exit ends this process at once, without running the parent's destructors
        // or atexit handlers that the forked copy inherited.
        unsafe { libc::_exit(crate::exit_code::CANNOT_START) }
    }
}

/// What the parent read from the child.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub timings: Vec<Timing>,
    pub failure: Option<Error>,
    /// The child is held before `execve` ([`ChildMessage::Ready`]).
    pub ready: bool,
}

/// Reads until the child execs (EOF) or fails.
pub(crate) fn read(fd: OwnedFd) -> Result<Report, Error> {
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(|e| Error::Sys {
            step: "read the container's start report",
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    parse(&text)
}

fn parse(text: &str) -> Result<Report, Error> {
    let mut report = Report::default();
    for line in text.lines() {
        match ChildMessage::decode(line)? {
            ChildMessage::Timing { step, elapsed } => report.timings.push(Timing { step, elapsed }),
            ChildMessage::Failed {
                step,
                errno,
                message,
            } => {
                report.failure = Some(Error::InContainer {
                    step,
                    errno,
                    message,
                })
            }
            ChildMessage::Ready => report.ready = true,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timings_and_failure() {
        let report =
            parse("T\trootfs\t1500\nE\texec\t2\texec \"/bin/nope\": No such file\n").unwrap();
        assert_eq!(report.timings.len(), 1);
        assert_eq!(report.timings[0].elapsed, Duration::from_micros(1500));
        let failure = report.failure.unwrap();
        assert_eq!(failure.exit_code(), 127);
        assert_eq!(failure.to_string(), "exec \"/bin/nope\": No such file");
    }

    #[test]
    fn empty_report_means_the_command_runs() {
        let report = parse("").unwrap();
        assert!(report.failure.is_none() && report.timings.is_empty());
    }

    #[test]
    fn a_garbled_report_is_an_error() {
        assert!(matches!(parse("T\trootfs\n"), Err(Error::Protocol(_))));
    }
}
