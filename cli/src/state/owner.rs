//! What the `lock` file holds besides its flock: who claimed the name, and the exit of a
//! container whose monitor could not replace `state.json`.
//!
//! The claimer writes the whole file once, at a fixed size, when it takes the name:
//!
//! ```text
//! bytes    0..128   the claim: {"monitor":{"pid":..,"start":..}} padded with spaces, '\n'
//! bytes  128..1024  the exit slot: spaces and '\n' until the monitor needs it
//! ```
//!
//! The claim names the monitor when `state.json` is damaged or gone, so that box can still
//! stop it. The exit slot is space reserved at claim time: on a full disk the new
//! `state.json` cannot be written, but an overwrite of bytes already written allocates
//! nothing (ext4 and tmpfs alike), so the monitor can still record how the container ended.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::proc::ProcessId;

const CLAIM_LEN: usize = 128;
const SLOT_LEN: usize = 896;
/// The lock file's size once claimed.
pub const LEN: usize = CLAIM_LEN + SLOT_LEN;
/// How long the error texts of an exit slot may be, at most.
const TEXT_MAX: usize = 320;

/// Who took the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub monitor: ProcessId,
}

/// How a container ended, as its monitor wrote it in place when `state.json` could not be
/// replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The monitor that wrote it: a slot applies only to the record of that monitor.
    pub monitor: ProcessId,
    pub finished_at: String,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    pub error: Option<String>,
    /// Why `state.json` could not be replaced.
    pub why: String,
}

/// What a lock file says; `None` where it says nothing readable.
#[derive(Debug, Default)]
pub struct Contents {
    pub claim: Option<Claim>,
    pub exit: Option<Exit>,
}

/// Writes the claim and a blank exit slot: the file's whole, fixed size.
pub fn write_claim(file: &File, claim: &Claim) -> std::io::Result<()> {
    let mut bytes = padded(&serde_json::to_vec(claim)?, CLAIM_LEN)
        .ok_or_else(|| std::io::Error::other("the claim does not fit its slot"))?;
    bytes.extend(padded(b"", SLOT_LEN).unwrap_or_default());
    file.write_all_at(&bytes, 0)?;
    file.set_len(LEN as u64)
}

/// Overwrites the exit slot in place (long error texts are shortened to fit).
pub fn write_exit(file: &File, exit: &Exit) -> std::io::Result<()> {
    let mut exit = exit.clone();
    let mut max = TEXT_MAX;
    loop {
        exit.error = exit.error.map(|e| shorten(&e, max));
        exit.why = shorten(&exit.why, max);
        if let Some(bytes) = padded(&serde_json::to_vec(&exit)?, SLOT_LEN) {
            return file.write_all_at(&bytes, CLAIM_LEN as u64);
        }
        if max == 0 {
            return Err(std::io::Error::other("the exit does not fit its slot"));
        }
        max /= 2;
    }
}

/// Reads `path` (the lock file); a missing, short or garbled file reads as nothing.
pub fn read(path: &Path) -> Contents {
    let Ok(bytes) = std::fs::read(path) else {
        return Contents::default();
    };
    let part = |range: std::ops::Range<usize>| bytes.get(range).and_then(parse_padded);
    Contents {
        claim: part(0..CLAIM_LEN).and_then(|b| serde_json::from_slice(&b).ok()),
        exit: part(CLAIM_LEN..LEN).and_then(|b| serde_json::from_slice(&b).ok()),
    }
}

/// `json` followed by spaces, ending in '\n', `len` bytes in all; `None` if it does not fit.
fn padded(json: &[u8], len: usize) -> Option<Vec<u8>> {
    if json.len() >= len {
        return None;
    }
    let mut out = json.to_vec();
    out.resize(len - 1, b' ');
    out.push(b'\n');
    Some(out)
}

/// A slot's JSON, if it is complete (ends in the '\n' written last) and not blank.
fn parse_padded(slot: &[u8]) -> Option<Vec<u8>> {
    let body = slot.strip_suffix(b"\n")?;
    let text = body.trim_ascii();
    (!text.is_empty()).then(|| text.to_vec())
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> ProcessId {
        ProcessId::of(std::process::id() as i32).unwrap()
    }

    #[test]
    fn a_claim_and_an_exit_read_back_and_keep_the_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        let claim = Claim { monitor: me() };
        write_claim(&file, &claim).unwrap();
        let read_back = read(&path);
        assert_eq!(read_back.claim, Some(claim));
        assert_eq!(read_back.exit, None);
        let exit = Exit {
            monitor: me(),
            finished_at: "2024-05-01T12:34:56.000000000Z".into(),
            exit_code: Some(137),
            oom_killed: false,
            error: Some("x".repeat(5000)),
            why: "\u{1}".repeat(2000),
        };
        write_exit(&file, &exit).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), LEN as u64);
        let read_back = read(&path);
        assert_eq!(read_back.claim, Some(claim));
        let got = read_back.exit.unwrap();
        assert_eq!((got.exit_code, got.monitor), (Some(137), me()));
        assert!(got.error.unwrap().len() < 1000);
    }

    #[test]
    fn short_or_garbled_files_say_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        for text in [&b""[..], b"{\"monitor\"", &[b'x'; LEN]] {
            std::fs::write(&path, text).unwrap();
            let c = read(&path);
            assert!(c.claim.is_none() && c.exit.is_none(), "{text:?}");
        }
        assert!(read(&tmp.path().join("none")).claim.is_none());
    }
}
