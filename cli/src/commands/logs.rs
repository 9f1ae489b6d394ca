//! `box logs`: what a detached container wrote to stdout and stderr (one file, in order), with
//! each line's time on request (`--timestamps`, `--since`; see `logtimes.rs`).

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};

use super::logtimes;
use crate::name::Name;
use crate::state::Root;

/// How often `logs -f` looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// What `box logs` shows besides the bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Show {
    /// Each line behind its time, RFC 3339 with nanoseconds, as Docker prints it.
    pub timestamps: bool,
    /// Only lines written at or after this time (nanoseconds since the epoch).
    pub since: Option<u128>,
}

/// `--since`: an RFC 3339 time (`2026-11-30T14:00:00Z`), a duration back from now (`10m`,
/// `1h30m`) or Unix seconds, as Docker takes it.
pub fn parse_since(text: &str) -> Result<u128> {
    let nanos = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(u128::from(secs) * 1_000_000_000);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(nanos(t));
    }
    if let Ok(d) = humantime::parse_duration(text) {
        return Ok(nanos(SystemTime::now() - d));
    }
    Err(anyhow!(
        "--since {text:?}: expected an RFC 3339 time (2026-11-30T14:00:00Z), a duration (10m) or Unix seconds"
    ))
}

pub fn logs(
    root: &Root,
    name: &Name,
    follow: bool,
    tail: Option<usize>,
    show: Show,
) -> Result<i32> {
    root.entry(name)?;
    if show.timestamps || show.since.is_some() {
        return stamped(root, name, follow, tail, show);
    }
    let path = root.log_path(name);
    // The monitor makes the log a regular file of its own; never read through a symlink.
    let mut file = open(&path)?;
    let mut text = Vec::new();
    file.read_to_end(&mut text)
        .with_context(|| format!("read {}", path.display()))?;
    let start = tail.map_or(0, |n| tail_start(&text, n));
    let mut out = std::io::stdout().lock();
    out.write_all(&text[start..])?;
    out.flush()?;
    if !follow {
        return Ok(0);
    }
    let mut pos = text.len() as u64;
    loop {
        // Read the state first: once it says the output is complete, all of it is in the
        // file when we read it below.
        let running = !root.entry(name).map_or(true, |e| e.output_complete());
        let mut more = Vec::new();
        file.seek(SeekFrom::Start(pos))?;
        file.read_to_end(&mut more)?;
        pos += more.len() as u64;
        out.write_all(&more)?;
        out.flush()?;
        if !running {
            return Ok(0);
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

fn open(path: &std::path::Path) -> Result<std::fs::File> {
    std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("open {}", path.display()))
}

/// Reads the whole of a file of the container's directory (never through a symlink).
fn read_all(path: &std::path::Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {}", path.display()))?;
    Ok(bytes)
}

/// The lines with their times: whole lines only while the container may still write.
fn stamped(root: &Root, name: &Name, follow: bool, tail: Option<usize>, show: Show) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    let mut printed = 0usize; // bytes of the log shown (or skipped) so far
    let mut first = true;
    loop {
        let running = follow && !root.entry(name).map_or(true, |e| e.output_complete());
        let log = read_all(&root.log_path(name))?;
        let times = read_all(&root.times_path(name))
            .map(|t| logtimes::read(&String::from_utf8_lossy(&t)))
            .map_err(|e| e.context("this container's log has no times (box logs without --timestamps and --since shows it)"))?;
        let mut lines: Vec<_> = logtimes::lines(&log, &times)
            .into_iter()
            .scan(0usize, |at, (time, line)| {
                let start = *at;
                *at += line.len();
                Some((start, time, line))
            })
            .filter(|(start, _, line)| *start >= printed && (!running || line.ends_with(b"\n")))
            .collect();
        if let Some(&(start, _, line)) = lines.last() {
            printed = start + line.len();
        }
        lines.retain(|(_, time, _)| show.since.map_or(true, |s| time.is_some_and(|t| t >= s)));
        if first {
            let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
            lines.drain(..skip);
            first = false;
        }
        for (_, time, line) in lines {
            if show.timestamps {
                let stamp = time.map_or_else(
                    || "-".to_string(),
                    |t| {
                        let at = UNIX_EPOCH + Duration::from_nanos(t as u64);
                        humantime::format_rfc3339_nanos(at).to_string()
                    },
                );
                out.write_all(format!("{stamp} ").as_bytes())?;
            }
            out.write_all(line)?;
        }
        out.flush()?;
        if !running {
            return Ok(0);
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// Where the last `n` lines of `text` start (a final line without `\n` counts).
fn tail_start(text: &[u8], n: usize) -> usize {
    if n == 0 {
        return text.len();
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    body.iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .map_or(0, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::tail_start;

    #[test]
    fn tail_counts_lines_from_the_end() {
        let t = b"a\nb\nc\n";
        assert_eq!(&t[tail_start(t, 2)..], b"b\nc\n");
        assert_eq!(&t[tail_start(t, 9)..], t);
        assert_eq!(&t[tail_start(t, 0)..], b"");
        assert_eq!(&b"a\nb"[tail_start(b"a\nb", 1)..], b"b");
    }
}
