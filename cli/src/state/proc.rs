//! What the state needs from /proc and the clock: a process identity that survives pid reuse,
//! and timestamps in RFC 3339 (UTC), as Docker prints them.
//!
//! `/proc/PID/stat` is parsed by `procfs-core`, the parsing half of the `procfs` crate, from
//! a file box opens itself: the same one open and read as before, where `procfs`'s
//! `Process::new` would open `/proc/PID` first and, once, read the kernel's version.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procfs_core::process::Stat;
use procfs_core::FromRead;
use serde::{Deserialize, Serialize};

/// A process as (pid, start time in clock ticks since boot): a recycled pid has another start
/// time, so a stale state never makes box signal a stranger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: i32,
    pub start: u64,
}

impl ProcessId {
    /// The identity of a live process now.
    pub fn of(pid: i32) -> Option<ProcessId> {
        start_time(pid).map(|start| ProcessId { pid, start })
    }
}

/// Whether this very process still exists (and is not a zombie).
pub fn alive(p: &ProcessId) -> bool {
    stat(p.pid).is_some_and(|s| s.starttime == p.start && s.state != 'Z')
}

#[cfg_attr(not(test), allow(dead_code))]
/// Field 22 of `/proc/PID/stat`, the start time in clock ticks after boot.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.starttime)
}

/// The parent of a live process (field 4 of `/proc/PID/stat`).
pub fn parent_of(pid: i32) -> Option<i32> {
    stat(pid).map(|s| s.ppid)
}

fn stat(pid: i32) -> Option<Stat> {
    Stat::from_file(format!("/proc/{pid}/stat")).ok()
}

/// Now, as `2024-05-01T12:34:56.789012345Z`.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// `t` in RFC 3339, UTC, to the nanosecond. A clock set before 1970 or after 9999 (which the
/// format cannot show) gives the nearest time it can.
fn rfc3339(t: SystemTime) -> String {
    let last = UNIX_EPOCH + Duration::new(253_402_300_799, 999_999_999);
    humantime::format_rfc3339_nanos(t.clamp(UNIX_EPOCH, last)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        let at = |secs, nanos| rfc3339(UNIX_EPOCH + Duration::new(secs, nanos));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(at(1_714_566_896, 0), "2024-05-01T12:34:56.000000000Z");
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(300_000_000_000, 0), "9999-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = ProcessId::of(std::process::id() as i32).unwrap();
        assert!(alive(&me));
        assert_eq!(parent_of(me.pid), Some(nix::unistd::getppid().as_raw()));
        assert!(!alive(&ProcessId {
            start: me.start + 1,
            ..me
        }));
    }

    /// A command name with spaces and parentheses does not shift the fields.
    #[test]
    fn a_command_name_with_parentheses_is_read() {
        let text = "42 (a) b (c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 \
                    123456 1 1 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
        let s = Stat::from_read(text.as_bytes()).unwrap();
        assert_eq!((s.state, s.ppid, s.starttime), ('S', 7, 123_456));
    }
}
