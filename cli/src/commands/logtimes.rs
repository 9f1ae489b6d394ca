//! When each line of a detached container's log was written, for `box logs --timestamps` and
//! `--since`. The log stays the container's bytes exactly; beside it, `times` holds one
//! `OFFSET NANOS` line per log line: where the line starts in the log, and when (nanoseconds
//! since the epoch) its first byte arrived.
//!
//! The monitor's output loop (the launcher's) hands each chunk it reads to a [`Stamped`]
//! sink, which appends it to the log and each line's start to `times`.

use std::fs::File;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use box_launcher::Sink;

/// The file beside the log.
pub const TIMES: &str = "times";

/// The log and its times, written as the output arrives.
pub struct Stamped {
    log: File,
    times: File,
    /// Bytes of the log so far.
    offset: u64,
    at_line_start: bool,
}

impl Stamped {
    pub fn new(log: File, times: File) -> Stamped {
        Stamped {
            log,
            times,
            offset: 0,
            at_line_start: true,
        }
    }
}

impl Sink for Stamped {
    fn put(&mut self, bytes: &[u8]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut stamps = String::new();
        for (i, byte) in bytes.iter().enumerate() {
            if self.at_line_start {
                stamps.push_str(&format!("{} {now}\n", self.offset + i as u64));
            }
            self.at_line_start = *byte == b'\n';
        }
        // A full disk loses output, as a plain copy would: the pipe is read all the same.
        let _ = self.times.write_all(stamps.as_bytes());
        let _ = self.log.write_all(bytes);
        self.offset += bytes.len() as u64;
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
    fn the_sink_stamps_line_starts() {
        let dir = tempfile::tempdir().unwrap();
        let log = File::create(dir.path().join("log")).unwrap();
        let times = File::create(dir.path().join("times")).unwrap();
        let mut sink = Stamped::new(log, times);
        sink.put(b"one\ntw");
        sink.put(b"o\nthree\n");
        drop(sink);
        let text = std::fs::read_to_string(dir.path().join("times")).unwrap();
        let offsets: Vec<usize> = read(&text).iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, [0, 4, 8]);
        assert_eq!(
            std::fs::read(dir.path().join("log")).unwrap(),
            b"one\ntwo\nthree\n"
        );
    }
}
