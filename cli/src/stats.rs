//! `box stats NAME`: one reading of a running container's usage and limits, straight from
//! the kernel's files in its cgroup `box/<NAME>` (the cgroup path is the container's
//! identity; no state is needed).

use std::path::{Path, PathBuf};

use box_cgroup::{Cgroup, Error as CgroupError, Layout, Limits, Stats};
use serde::Serialize;

use crate::name::Name;

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The container's name.
    name: String,
    /// `table` (default) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

/// What `--format json` prints. `null` means unlimited for a limit, and "this host does not
/// report it" for a usage figure.
#[derive(Debug, Serialize)]
struct Report {
    name: String,
    /// The cgroup path relative to each hierarchy's root.
    cgroup: PathBuf,
    memory: Memory,
    cpu: Cpu,
    pids: Pids,
}

#[derive(Debug, Serialize)]
struct Memory {
    usage_bytes: Option<u64>,
    peak_bytes: Option<u64>,
    limit_bytes: Option<u64>,
    swap_usage_bytes: Option<u64>,
    oom_kills: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Cpu {
    usage_ns: Option<u64>,
    user_ns: Option<u64>,
    system_ns: Option<u64>,
    /// The quota as a number of CPUs (`cpus` in box.toml).
    limit_cpus: Option<f64>,
    periods: Option<u64>,
    throttled_periods: Option<u64>,
    throttled_ns: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Pids {
    current: Option<u64>,
    limit: Option<u64>,
}

/// Runs `box stats`; returns the exit code (1 when there is no such running container).
pub fn run(args: &StatsArgs) -> i32 {
    match read(&args.name) {
        Ok(report) => {
            match args.format {
                Format::Table => print!("{}", table(&report)),
                Format::Json => match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("box: stats: {e}");
                        return 1;
                    }
                },
            }
            0
        }
        Err(message) => {
            eprintln!("box: {message}");
            1
        }
    }
}

fn read(name: &str) -> Result<Report, String> {
    let not_running = || format!("no running container named {name:?}");
    // A name is one cgroup directory: nothing that could point elsewhere in the tree.
    let checked = Name::parse(name).map_err(|e| e.to_string())?;
    let layout = Layout::detect().map_err(|e| format!("find the cgroup hierarchies: {e}"))?;
    let path = Path::new("box").join(checked.as_str());
    let cg = match Cgroup::open(&layout, &path) {
        Ok(cg) => cg,
        Err(CgroupError::NotFound { .. }) => return Err(not_running()),
        Err(e) => return Err(format!("stats of {name:?}: {e}")),
    };
    let failed = |e: CgroupError| format!("stats of {name:?}: {e}");
    // An empty cgroup is what a killed box leaves until the next sweep: nothing runs there.
    if cg.procs().map_err(failed)?.is_empty() {
        return Err(not_running());
    }
    let stats = cg.stats().map_err(failed)?;
    let limits = cg.read_limits().map_err(failed)?;
    Ok(report(name, cg.path(), &stats, &limits))
}

fn report(name: &str, cgroup: &Path, s: &Stats, l: &Limits) -> Report {
    Report {
        name: name.to_string(),
        cgroup: cgroup.to_path_buf(),
        memory: Memory {
            usage_bytes: s.memory_usage,
            peak_bytes: s.memory_peak,
            limit_bytes: l.memory,
            swap_usage_bytes: s.swap_usage,
            oom_kills: s.oom_kills,
        },
        cpu: Cpu {
            usage_ns: s.cpu_usage_ns,
            user_ns: s.cpu_user_ns,
            system_ns: s.cpu_system_ns,
            limit_cpus: l.cpus(),
            periods: s.cpu_periods,
            throttled_periods: s.cpu_throttled_periods,
            throttled_ns: s.cpu_throttled_ns,
        },
        pids: Pids {
            current: s.pids_current,
            limit: l.pids,
        },
    }
}

/// A header line and one row, columns aligned.
fn table(r: &Report) -> String {
    let limit = |v: Option<String>| v.unwrap_or_else(|| "unlimited".into());
    let usage = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let cols = [
        ("NAME", r.name.clone()),
        ("MEM USAGE", usage(r.memory.usage_bytes.map(bytes))),
        ("MEM PEAK", usage(r.memory.peak_bytes.map(bytes))),
        ("MEM LIMIT", limit(r.memory.limit_bytes.map(bytes))),
        ("CPU TIME", usage(r.cpu.usage_ns.map(seconds))),
        ("CPUS", limit(r.cpu.limit_cpus.map(|c| format!("{c}")))),
        (
            "THROTTLED",
            usage(r.cpu.throttled_periods.map(|n| n.to_string())),
        ),
        ("PIDS", usage(r.pids.current.map(|n| n.to_string()))),
        ("PIDS LIMIT", limit(r.pids.limit.map(|n| n.to_string()))),
    ];
    let mut head = String::new();
    let mut row = String::new();
    for (i, (title, value)) in cols.iter().enumerate() {
        let width = title.len().max(value.len());
        let sep = if i + 1 < cols.len() { "   " } else { "" };
        head.push_str(&format!("{title:<width$}{sep}"));
        row.push_str(&format!("{value:<width$}{sep}"));
    }
    format!("{}\n{}\n", head.trim_end(), row.trim_end())
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
    use super::*;

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
        let text = table(&report("web", Path::new("box/web"), &stats, &limits));
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
