//! The child's side channel to the parent: a close-on-exec pipe. The child writes step timings
//! and at most one failure; a successful `execve` closes the pipe, so the parent reading EOF with
//! no failure knows the command is running.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::errno::Errno;

use crate::Error;

/// One step of the start sequence and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub step: String,
    pub elapsed: Duration,
}

/// The child's end.
pub(crate) struct Reporter(std::fs::File);

impl Reporter {
    pub(crate) fn new(fd: OwnedFd) -> Reporter {
        Reporter(fd.into())
    }

    pub(crate) fn timing(&mut self, step: &str, elapsed: Duration) {
        // Losing a timing line is harmless; the parent would only show fewer rows.
        let _ = writeln!(self.0, "T\t{step}\t{}", elapsed.as_micros());
    }

    /// Reports a failed step and ends the child.
    pub(crate) fn fail(&mut self, step: &str, errno: Errno, message: &str) -> ! {
        let message = message.replace('\n', " ");
        let _ = writeln!(self.0, "E\t{step}\t{}\t{message}", errno as i32);
        // SAFETY: _exit ends this process at once, without running the parent's destructors
        // or atexit handlers that the forked copy inherited.
        unsafe { libc::_exit(125) }
    }
}

/// What the parent read from the child.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub timings: Vec<Timing>,
    pub failure: Option<Error>,
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
    Ok(parse(&text))
}

fn parse(text: &str) -> Report {
    let mut report = Report::default();
    for line in text.lines() {
        let mut fields = line.splitn(4, '\t');
        match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some("T"), Some(step), Some(micros), None) => {
                if let Ok(micros) = micros.parse() {
                    report.timings.push(Timing {
                        step: step.to_string(),
                        elapsed: Duration::from_micros(micros),
                    });
                }
            }
            (Some("E"), Some(step), Some(errno), Some(message)) => {
                report.failure = Some(Error::InContainer {
                    step: step.to_string(),
                    errno: Errno::from_raw(errno.parse().unwrap_or(0)),
                    message: message.to_string(),
                });
            }
            _ => {}
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timings_and_failure() {
        let report = parse("T\trootfs\t1500\nE\texec\t2\texec \"/bin/nope\": No such file\n");
        assert_eq!(report.timings.len(), 1);
        assert_eq!(report.timings[0].elapsed, Duration::from_micros(1500));
        let failure = report.failure.unwrap();
        assert_eq!(failure.exit_code(), 127);
        assert_eq!(failure.to_string(), "exec \"/bin/nope\": No such file");
    }

    #[test]
    fn empty_report_means_the_command_runs() {
        let report = parse("");
        assert!(report.failure.is_none() && report.timings.is_empty());
    }
}
