//! `events`: the container's cgroup statistics as runc prints them — one `stats` event with
//! `--stats`, else one every `--interval` and an `oom` event whenever the kernel's OOM kill
//! count grows, until the container stops. The container is locked only while it is read:
//! a stream must not hold off `kill` or `delete`.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::cli::Global;
use crate::state::{Root, Status};

pub fn events(g: &Global, id: &str, stats_once: bool, interval: &str) -> Result<i32> {
    let every = parse_interval(interval)?;
    let root = Root(g.root.clone());
    let mut ooms_seen: Option<u64> = None;
    loop {
        let (stats, limits, running) = {
            let locked = root.open(id)?;
            let record = locked.read()?;
            let status = record.status(&locked.dir);
            if status == Status::Stopped && !stats_once {
                return Ok(0);
            }
            let cg = crate::cgroup::open(&record.spec)?;
            let stats = cg.stats().context("read the cgroup's statistics")?;
            let limits = cg.read_limits().context("read the cgroup's limits")?;
            (stats, limits, status != Status::Stopped)
        };
        let ooms = stats.oom_kills.unwrap_or(0);
        if ooms_seen.is_some_and(|seen| ooms > seen) {
            println!("{}", json!({"type": "oom", "id": id}));
        }
        ooms_seen = Some(ooms);
        println!("{}", stats_event(id, &stats, &limits));
        if stats_once || !running {
            return Ok(0);
        }
        std::thread::sleep(every);
    }
}

/// runc's `stats` event: the fields of its `types.Stats` that box's cgroup layer reads.
pub fn stats_event(id: &str, s: &box_cgroup::Stats, l: &box_cgroup::Limits) -> Value {
    let n = |v: Option<u64>| v.unwrap_or(0);
    json!({
        "type": "stats",
        "id": id,
        "data": {
            "cpu": {
                "usage": {
                    "total": n(s.cpu_usage_ns),
                    "kernel": n(s.cpu_system_ns),
                    "user": n(s.cpu_user_ns),
                },
                "throttling": {
                    "periods": n(s.cpu_periods),
                    "throttledPeriods": n(s.cpu_throttled_periods),
                    "throttledTime": n(s.cpu_throttled_ns),
                },
            },
            "memory": {
                "usage": {
                    "usage": n(s.memory_usage),
                    "max": n(s.memory_peak),
                    "limit": l.memory.unwrap_or(u64::MAX),
                },
                "swap": { "usage": n(s.swap_usage) },
                "oom_kill": n(s.oom_kills),
            },
            "pids": { "current": n(s.pids_current), "limit": n(l.pids) },
            "blkio": {
                "ioServiceBytesRecursive": [
                    { "op": "Read", "value": n(s.io_read_bytes) },
                    { "op": "Write", "value": n(s.io_write_bytes) },
                ],
            },
        },
    })
}

/// Go's durations as runc takes them: `5s`, `500ms`, `1m`, `1h`, `1.5s`.
fn parse_interval(text: &str) -> Result<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .with_context(|| format!("--interval {text:?}: not a duration like 5s"))?;
    let seconds = match unit {
        "ns" => value / 1e9,
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => bail!("--interval {text:?}: the unit is one of ns, us, ms, s, m, h"),
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        bail!("--interval {text:?}: must be above zero");
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_as_go_writes_them() {
        assert_eq!(parse_interval("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_interval("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_interval("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_interval("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "5", "0s", "s", "5x", "-1s"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stats_event_has_runcs_shape() {
        let s = box_cgroup::Stats {
            memory_usage: Some(4096),
            cpu_usage_ns: Some(7),
            pids_current: Some(2),
            ..Default::default()
        };
        let l = box_cgroup::Limits {
            memory: Some(1 << 20),
            pids: Some(10),
            ..Default::default()
        };
        let e = stats_event("c1", &s, &l);
        assert_eq!(e["type"], "stats");
        assert_eq!(e["id"], "c1");
        assert_eq!(e["data"]["memory"]["usage"]["usage"], 4096);
        assert_eq!(e["data"]["memory"]["usage"]["limit"], 1 << 20);
        assert_eq!(e["data"]["cpu"]["usage"]["total"], 7);
        assert_eq!(e["data"]["pids"], json!({"current": 2, "limit": 10}));
    }
}
