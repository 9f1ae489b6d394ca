//! When each line of a detached container's log was written, for `box logs --timestamps` and
//! `--since`. The log stays the container's bytes exactly; beside it, `times` holds one
//! `OFFSET NANOS` line per log line: where the line starts in the log, and when (nanoseconds
//! since the epoch) its first byte arrived.
//!
//! The monitor's output copy (the launcher's) writes into a pipe; a thread of the monitor
//! reads it, stamps each line and appends to both files. It is started after the container
//! is, with every signal blocked (box is single-threaded until the clone; the signals the
//! monitor forwards must reach the thread that waits for them).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use nix::fcntl::OFlag;
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};

/// The file beside the log.
pub const TIMES: &str = "times";

/// A thread that copies what arrives on the returned pipe into `log`, and each line's start
/// into `times`; it ends when the last writer of the pipe is gone.
pub fn start(log: File, times: File) -> Result<(OwnedFd, JoinHandle<()>)> {
    let (reader, writer) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context("pipe for the log")?;
    let mut old = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut old))
        .context("block signals for the log thread")?;
    let thread = std::thread::Builder::new()
        .name("log".into())
        .spawn(move || copy(File::from(reader), log, times));
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None)
        .context("restore the signal mask")?;
    Ok((writer, thread.context("start the log thread")?))
}

fn copy(mut pipe: File, mut log: File, mut times: File) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset: u64 = 0;
    let mut at_line_start = true;
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut stamps = String::new();
        for (i, byte) in buf[..n].iter().enumerate() {
            if at_line_start {
                stamps.push_str(&format!("{} {now}\n", offset + i as u64));
            }
            at_line_start = *byte == b'\n';
        }
        // A full disk loses output, as the launcher's own copy would: keep draining.
        let _ = times.write_all(stamps.as_bytes());
        let _ = log.write_all(&buf[..n]);
        offset += n as u64;
    }
}

/// `times` read back: (offset, nanoseconds) in log order; lines it cannot read are skipped.
pub fn read(text: &str) -> Vec<(usize, u128)> {
    text.lines()
        .filter_map(|l| {
            let (offset, nanos) = l.split_once(' ')?;
            Some((offset.parse().ok()?, nanos.parse().ok()?))
        })
        .collect()
}

/// Each line of `log` with its time (the time of the line that started before it, for a log
/// written before times were recorded: none).
pub fn lines<'a>(log: &'a [u8], times: &[(usize, u128)]) -> Vec<(Option<u128>, &'a [u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut next = times.iter().peekable();
    let mut current = None;
    while start < log.len() {
        while let Some((offset, nanos)) = next.peek() {
            if *offset > start {
                break;
            }
            current = Some(*nanos);
            next.next();
        }
        let end = log[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(log.len(), |i| start + i + 1);
        out.push((current, &log[start..end]));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_gets_the_time_of_its_first_byte() {
        let log = b"a\nbb\nc";
        let times = read("0 10\n2 20\n5 30\n");
        let got = lines(log, &times);
        assert_eq!(
            got,
            vec![
                (Some(10), &b"a\n"[..]),
                (Some(20), &b"bb\n"[..]),
                (Some(30), &b"c"[..])
            ]
        );
    }

    #[test]
    fn the_thread_stamps_line_starts() {
        let dir = tempfile::tempdir().unwrap();
        let log = File::create(dir.path().join("log")).unwrap();
        let times = File::create(dir.path().join("times")).unwrap();
        let (writer, thread) = start(log, times).unwrap();
        let mut w = File::from(writer);
        w.write_all(b"one\ntw").unwrap();
        w.write_all(b"o\nthree\n").unwrap();
        drop(w);
        thread.join().unwrap();
        let text = std::fs::read_to_string(dir.path().join("times")).unwrap();
        let offsets: Vec<usize> = read(&text).iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, [0, 4, 8]);
        assert_eq!(
            std::fs::read(dir.path().join("log")).unwrap(),
            b"one\ntwo\nthree\n"
        );
    }
}
