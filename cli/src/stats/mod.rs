//! `box stats [NAME...]`: a running container's usage and limits, straight from the kernel's
//! files in its cgroup `box/<NAME>` (the cgroup path is the container's identity). Without a
//! name, every running container. On a terminal the table is read again every second, as
//! `docker stats` does, until Ctrl-C; `--no-stream` (or output to a pipe) reads once.

mod table;

use std::path::{Path, PathBuf};

use box_cgroup::{Cgroup, Error as CgroupError, Layout, Limits, Stats};
use serde::Serialize;

use crate::name::Name;
use crate::state::{Root, Status};

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The containers' names (default: every running container).
    names: Vec<String>,
    /// One reading, not a table refreshed every second (the default on a pipe).
    #[arg(long)]
    no_stream: bool,
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
pub struct Report {
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

/// How often a streamed table is read again.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `box stats`; returns the exit code (1 when a named container is not running).
pub fn run(args: &StatsArgs, root: &Root) -> i32 {
    use std::io::IsTerminal;
    let stream = !args.no_stream && args.format == Format::Table && std::io::stdout().is_terminal();
    loop {
        let (text, code) = once(args, root);
        if stream {
            // Home and clear the screen, as `docker stats` redraws.
            print!("\x1b[H\x1b[2J");
        }
        print!("{text}");
        if !stream || code != 0 {
            return code;
        }
        std::thread::sleep(REFRESH);
    }
}

/// One reading of every container asked for: the text to print, and the exit code.
fn once(args: &StatsArgs, root: &Root) -> (String, i32) {
    let names = if args.names.is_empty() {
        running(root)
    } else {
        args.names.clone()
    };
    let mut reports = Vec::new();
    let mut code = 0;
    for name in &names {
        match read(name) {
            Ok(report) => reports.push(report),
            // Listed as running, then gone: not an error of `box stats` without names.
            Err(_) if args.names.is_empty() => {}
            Err(message) => {
                eprintln!("box: {message}");
                code = 1;
            }
        }
    }
    let text = match args.format {
        Format::Table if reports.is_empty() && code != 0 => String::new(),
        Format::Table => table::table(&reports),
        // One name: its object, as before; otherwise a list.
        Format::Json => match args.names.len() {
            1 => reports.first().map(serde_json::to_string_pretty),
            _ => Some(serde_json::to_string_pretty(&reports)),
        }
        .map(|r| r.map_or_else(|e| format!("box: stats: {e}"), |t| format!("{t}\n")))
        .unwrap_or_default(),
    };
    (text, code)
}

/// The names of the running containers, as `box ps` lists them.
fn running(root: &Root) -> Vec<String> {
    let Ok(names) = root.names() else {
        return Vec::new();
    };
    names
        .into_iter()
        .filter(|n| root.entry(n).is_ok_and(|e| e.status() == Status::Running))
        .map(|n| n.to_string())
        .collect()
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
