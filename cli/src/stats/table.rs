//! `box stats` as a table: a header and a row per container, columns aligned, sizes and times
//! as `docker stats` shows them.

use super::Report;

/// The columns' titles.
const TITLES: [&str; 9] = [
    "NAME",
    "MEM USAGE",
    "MEM PEAK",
    "MEM LIMIT",
    "CPU TIME",
    "CPUS",
    "THROTTLED",
    "PIDS",
    "PIDS LIMIT",
];

/// One container's cells, in the order of [`TITLES`].
fn cells(r: &Report) -> [String; 9] {
    let limit = |v: Option<String>| v.unwrap_or_else(|| "unlimited".into());
    let usage = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    [
        r.name.clone(),
        usage(r.memory.usage_bytes.map(bytes)),
        usage(r.memory.peak_bytes.map(bytes)),
        limit(r.memory.limit_bytes.map(bytes)),
        usage(r.cpu.usage_ns.map(seconds)),
        limit(r.cpu.limit_cpus.map(|c| format!("{c}"))),
        usage(r.cpu.throttled_periods.map(|n| n.to_string())),
        usage(r.pids.current.map(|n| n.to_string())),
        limit(r.pids.limit.map(|n| n.to_string())),
    ]
}

/// A header line and a row per container, columns aligned.
pub fn table(reports: &[Report]) -> String {
    let rows: Vec<[String; 9]> = std::iter::once(TITLES.map(String::from))
        .chain(reports.iter().map(cells))
        .collect();
    box_cli::human::columns(&rows)
}

/// Bytes in binary units, as `docker stats` shows them: `1.5MiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}B")
    } else {
        let text = format!("{value:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text}{}", UNITS[unit])
    }
}

fn seconds(ns: u64) -> String {
    format!("{:.3}s", ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::super::report;
    use super::*;
    use box_cgroup::{Limits, Stats};
    use std::path::Path;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(bytes(0), "0B");
        assert_eq!(bytes(1023), "1023B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(32 << 20), "32MiB");
        assert_eq!(bytes((1 << 30) + (1 << 29)), "1.5GiB");
        assert_eq!(seconds(1_500_000_000), "1.500s");
    }

    #[test]
    fn the_table_has_a_column_per_figure() {
        let stats = Stats {
            memory_usage: Some(3 << 20),
            pids_current: Some(2),
            ..Default::default()
        };
        let limits = Limits {
            memory: Some(32 << 20),
            pids: Some(32),
            ..Default::default()
        };
        let text = table(&[report("web", Path::new("box/web"), &stats, &limits)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let cells: Vec<&str> = lines[1]
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "web",
                "3MiB",
                "-",
                "32MiB",
                "-",
                "unlimited",
                "-",
                "2",
                "32"
            ]
        );
        assert!(lines[0].starts_with("NAME"));
    }
}
