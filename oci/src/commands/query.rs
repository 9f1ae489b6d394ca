//! `state`, `list`, `ps`: read from the record and the kernel, never from the config alone.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cli::Global;
use crate::commands::lifecycle::oci_state;
use crate::state::Root;

pub fn state(g: &Global, id: &str) -> Result<i32> {
    let locked = Root(g.root.clone()).open(id)?;
    let record = locked.read()?;
    let st = oci_state(&record, record.status(&locked.dir));
    println!("{}", serde_json::to_string_pretty(&st)?);
    Ok(0)
}

pub fn list(g: &Global, format: &str, quiet: bool) -> Result<i32> {
    let root = Root(g.root.clone());
    let mut states = Vec::new();
    for id in root.ids()? {
        // A container being created or deleted right now is skipped, not an error.
        let Ok(locked) = root.open(&id) else { continue };
        let Ok(record) = locked.read() else { continue };
        states.push(oci_state(&record, record.status(&locked.dir)));
    }
    match (format, quiet) {
        (_, true) => {
            for s in &states {
                println!("{}", s["id"].as_str().unwrap_or_default());
            }
        }
        ("json", _) => println!("{}", serde_json::to_string(&states)?),
        ("table", _) => {
            println!(
                "{:<20} {:<8} {:<10} {:<40} CREATED",
                "ID", "PID", "STATUS", "BUNDLE"
            );
            for s in &states {
                println!(
                    "{:<20} {:<8} {:<10} {:<40} {}",
                    s["id"].as_str().unwrap_or_default(),
                    s["pid"].as_i64().unwrap_or_default(),
                    s["status"].as_str().unwrap_or_default(),
                    s["bundle"].as_str().unwrap_or_default(),
                    s["created"].as_str().unwrap_or_default()
                );
            }
        }
        (other, _) => bail!("unknown --format {other:?}: use table or json"),
    }
    Ok(0)
}

/// The pids of the container's cgroup (every process of it, host pids). With `ps_args`
/// (`box-runc ps ID -- -ef`), as runc: ps(1) with those options, its header and the lines
/// whose PID column is one of the container's.
pub fn ps(g: &Global, id: &str, format: &str, ps_args: &[String]) -> Result<i32> {
    let locked = Root(g.root.clone()).open(id)?;
    let record = locked.read()?;
    let cg = crate::cgroup::open(&record.spec)?;
    let pids: Vec<i32> = cg.procs()?.into_iter().map(|p| p.as_raw()).collect();
    match format {
        "json" if !ps_args.is_empty() => bail!("ps options go with --format table only"),
        "json" => println!("{}", serde_json::to_string(&pids)?),
        "table" if !ps_args.is_empty() => print_ps(ps_args, &pids)?,
        "table" => {
            println!("{:>8} CMD", "PID");
            for pid in pids {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|b| {
                        String::from_utf8_lossy(&b)
                            .replace('\0', " ")
                            .trim()
                            .to_string()
                    })
                    .unwrap_or_default();
                println!("{pid:>8} {cmd}");
            }
        }
        other => bail!("unknown --format {other:?}: use table or json"),
    }
    Ok(0)
}

fn print_ps(ps_args: &[String], pids: &[i32]) -> Result<()> {
    let out = Command::new("ps")
        .args(ps_args)
        .output()
        .context("run ps")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            ps_args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().context("ps printed nothing")?;
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps printed no PID column")?;
    println!("{header}");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse().ok());
        if pid.is_some_and(|p: i32| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(())
}
