//! Foreground `box up` of several containers: their logs interleaved line by line behind a
//! `NAME | ` prefix, until all have exited; SIGINT, SIGTERM and SIGHUP stop them all.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use crate::name::Name;
use crate::state::Root;

use super::running_pids;
use crate::commands::pidfd::send;

/// How often the logs are read and the containers looked at.
const POLL: Duration = Duration::from_millis(50);

/// How many stop signals box has received.
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// From now on SIGINT, SIGTERM and SIGHUP are counted instead of ending box. A forked monitor
/// inherits the handler, but its launcher blocks these signals, and `execve` resets it to
/// the default in the container.
pub fn catch_signals() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only adds to an atomic, which is async-signal-safe.
        unsafe { sigaction(sig, &action) }.with_context(|| format!("catch {sig}"))?;
    }
    Ok(())
}

/// One container's log, read as it grows.
struct Stream {
    name: Name,
    label: String,
    file: Option<File>,
    pos: u64,
    partial: Vec<u8>,
    done: bool,
}

impl Stream {
    /// Writes the complete lines that arrived since the last call, each behind the label; at
    /// the end (`ended`), a last line without `\n` too.
    fn pump(&mut self, out: &mut impl Write, ended: bool) {
        if let Some(file) = &mut self.file {
            let mut more = Vec::new();
            if file.seek(SeekFrom::Start(self.pos)).is_ok() && file.read_to_end(&mut more).is_ok() {
                self.pos += more.len() as u64;
                self.partial.extend_from_slice(&more);
            }
        }
        let mut text = Vec::new();
        while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
            text.extend_from_slice(self.label.as_bytes());
            text.extend(self.partial.drain(..=i));
        }
        if ended && !self.partial.is_empty() {
            text.extend_from_slice(self.label.as_bytes());
            text.append(&mut self.partial);
            text.push(b'\n');
        }
        // A closed stdout (`box up | head`) must not stop box from stopping the containers.
        let _ = out.write_all(&text).and_then(|()| out.flush());
    }
}

/// Prints the containers' output until all of them have exited. The first stop signal sends
/// SIGTERM to every container, and SIGKILL after `timeout`; a second one SIGKILL at once.
pub fn follow(root: &Root, names: &[Name], timeout: Duration) {
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut streams: Vec<Stream> = names
        .iter()
        .map(|name| Stream {
            name: name.clone(),
            label: format!("{name:<width$} | "),
            file: File::open(root.log_path(name)).ok(),
            pos: 0,
            partial: Vec::new(),
            done: false,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let mut seen = 0;
    let mut kill_at: Option<Instant> = None;
    let mut killed = false;
    loop {
        let signals = SIGNALS.load(Ordering::SeqCst);
        if signals > seen {
            seen = signals;
            if kill_at.is_none() {
                eprintln!(
                    "box: stopping {} (SIGTERM; SIGKILL in {} s, or at once on a second Ctrl-C)",
                    names
                        .iter()
                        .map(Name::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    timeout.as_secs()
                );
                send_all(root, names, None);
                kill_at = Some(Instant::now() + timeout);
            } else {
                killed = false;
                kill_at = Some(Instant::now());
            }
        }
        if !killed && kill_at.is_some_and(|t| Instant::now() >= t) {
            send_all(root, names, Some(Signal::SIGKILL));
            killed = true;
        }
        for s in streams.iter_mut().filter(|s| !s.done) {
            // The state first: once it says the output is complete, all of it is in the log
            // by the time it is read below.
            let ended = root.entry(&s.name).map_or(true, |e| e.output_complete());
            s.pump(&mut out, ended);
            s.done = ended;
        }
        if streams.iter().all(|s| s.done) {
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// `sig` (none: each one's stop signal, SIGTERM or its image's) to every running container of
/// `names`, in reverse start order.
fn send_all(root: &Root, names: &[Name], sig: Option<Signal>) {
    let mut pids = running_pids(root, names);
    pids.reverse();
    for (pid, stop) in &pids {
        if let Err(e) = send(pid, sig.unwrap_or(*stop)) {
            eprintln!("box: {e:#}");
        }
    }
}
