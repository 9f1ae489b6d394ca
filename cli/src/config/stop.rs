//! `stop_signal` and `stop_timeout`: how `box stop` ends this container when not told
//! otherwise (Docker's `--stop-signal`, `--stop-timeout`). Not part of the launcher's Spec:
//! box records it beside the spec, and `box stop` reads it there.

use std::str::FromStr;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::to_spec::Ctx;
use super::ConfigError;

/// The stop policy as recorded: `None` is Docker's default (SIGTERM, 10 seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// The signal's number.
    pub signal: Option<i32>,
    pub timeout: Option<u64>,
}

impl Stop {
    /// The signal `box stop` sends first.
    pub fn signal(&self) -> Signal {
        self.signal
            .and_then(|n| Signal::try_from(n).ok())
            .unwrap_or(Signal::SIGTERM)
    }

    /// Seconds `box stop` waits before SIGKILL.
    pub fn timeout(&self) -> u64 {
        self.timeout.unwrap_or(10)
    }
}

/// A signal by name (`TERM`, `SIGTERM`, any case) or number.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("invalid signal number {n}"));
    }
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&full).map_err(|_| format!("unknown signal {text:?}"))
}

pub fn stop(c: &Ctx<'_>) -> Result<Stop, ConfigError> {
    let signal = match c.file.stop_signal.as_deref() {
        Some(text) => {
            let sig = parse_signal(text).map_err(|m| c.err(&["stop_signal"], m))?;
            if sig == Signal::SIGSTOP {
                return Err(c.err(
                    &["stop_signal"],
                    "SIGSTOP stops nothing for good: box stop would always wait for its timeout",
                ));
            }
            Some(sig as i32)
        }
        None => None,
    };
    Ok(Stop {
        signal,
        timeout: c.file.stop_timeout,
    })
}
