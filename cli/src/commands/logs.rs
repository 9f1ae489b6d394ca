//! `box logs`: what a detached container wrote to stdout and stderr (one file, in order).

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::name::Name;
use crate::state::Root;

/// How often `logs -f` looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

pub fn logs(root: &Root, name: &Name, follow: bool, tail: Option<usize>) -> Result<i32> {
    root.entry(name)?;
    let path = root.log_path(name);
    // The monitor makes the log a regular file of its own; never read through a symlink.
    let mut file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
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
