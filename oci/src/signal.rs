//! Signal names as `kill` takes them: `KILL`, `SIGKILL`, `sigkill` or `9`.

use anyhow::{bail, Result};
use nix::sys::signal::Signal;

pub fn parse(text: &str) -> Result<Signal> {
    if let Ok(n) = text.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| anyhow::anyhow!("unknown signal {text:?}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match name.parse::<Signal>() {
        Ok(sig) => Ok(sig),
        Err(_) => bail!("unknown signal {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_or_without_sig_and_numbers() {
        for text in ["KILL", "SIGKILL", "kill", "9"] {
            assert_eq!(parse(text).unwrap(), Signal::SIGKILL, "{text}");
        }
        assert_eq!(parse("USR1").unwrap(), Signal::SIGUSR1);
        assert_eq!(parse("15").unwrap(), Signal::SIGTERM);
        for bad in ["", "NOPE", "0", "99", "SIG"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
