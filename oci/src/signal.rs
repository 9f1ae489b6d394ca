//! Signal names as `kill` takes them: `KILL`, `SIGKILL`, `sigkill` or `9`, and the real-time
//! signals as runc's callers write them: `RTMIN`, `RTMIN+3`, `SIGRTMAX-2`, or their numbers.

use anyhow::{bail, Result};
use nix::sys::signal::Signal;

/// A signal's number: the classic ones checked by nix, the real-time ones by their range.
pub fn parse(text: &str) -> Result<i32> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    if let Ok(n) = text.parse::<i32>() {
        // 32 and 33 are real-time signals glibc keeps for itself; the kernel delivers them
        // like any other, and runc passes any number on: so does box, within the kernel's range.
        if (1..=max).contains(&n) {
            return Ok(n);
        }
        bail!("unknown signal {text:?}");
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(n) = realtime(name, min, max) {
        return n.ok_or_else(|| anyhow::anyhow!("signal {text:?} is out of {min}..={max}"));
    }
    match format!("SIG{name}").parse::<Signal>() {
        Ok(sig) => Ok(sig as i32),
        Err(_) => bail!("unknown signal {text:?}"),
    }
}

/// `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`: `None` if `name` is none of those,
/// `Some(None)` if it is one but out of range.
fn realtime(name: &str, min: i32, max: i32) -> Option<Option<i32>> {
    let (base, rest, sign) = if let Some(rest) = name.strip_prefix("RTMIN") {
        (min, rest, 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        (max, rest, -1)
    } else {
        return None;
    };
    let offset = match rest {
        "" => 0,
        _ => {
            let digits = if sign > 0 {
                rest.strip_prefix('+')
            } else {
                rest.strip_prefix('-')
            }?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            match digits.parse::<i32>() {
                Ok(n) => n,
                Err(_) => return Some(None),
            }
        }
    };
    let n = base + sign * offset;
    Some((min..=max).contains(&n).then_some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_or_without_sig_and_numbers() {
        for text in ["KILL", "SIGKILL", "kill", "9"] {
            assert_eq!(parse(text).unwrap(), libc::SIGKILL, "{text}");
        }
        assert_eq!(parse("USR1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse("15").unwrap(), libc::SIGTERM);
        for bad in ["", "NOPE", "0", "65", "99", "SIG", "-1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn real_time_signals_by_name_and_number() {
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        assert_eq!((min, max), (34, 64), "glibc's range on Linux");
        for (text, n) in [
            ("RTMIN", 34),
            ("SIGRTMIN", 34),
            ("rtmin+3", 37),
            ("SIGRTMIN+3", 37),
            ("RTMAX", 64),
            ("SIGRTMAX-2", 62),
            ("RTMIN+30", 64),
            ("RTMAX-30", 34),
            ("34", 34),
            ("50", 50),
            ("64", 64),
        ] {
            assert_eq!(parse(text).unwrap(), n, "{text}");
        }
        for bad in [
            "RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+x", "RTMIN3", "RTMID",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
