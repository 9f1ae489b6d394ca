//! `box ps`: one line per container, its status checked against the kernel.

use anyhow::{bail, Result};
use serde::Serialize;

use super::template::Template;
use crate::state::{Entry, Root, State, Status};

/// One row of `box ps`, also its JSON form.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    pub name: String,
    /// What it runs on: the image as the user named it, else the root directory, or `host`.
    pub image: String,
    pub status: Status,
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub created_at: String,
    pub command: String,
    /// Why the record is damaged (JSON only; the table's reader gets it on stderr).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    pub fn of(entry: &Entry) -> Row {
        let status = entry.status();
        let state = entry.state();
        Row {
            name: entry.name.to_string(),
            image: state.map(image).unwrap_or_default(),
            status,
            pid: entry.container_process().map(|p| p.pid),
            exit_code: state
                .and_then(|s| s.exit_code)
                .filter(|_| status == Status::Exited),
            created_at: state.map(|s| s.created_at.clone()).unwrap_or_default(),
            command: state
                .map(|s| s.spec.process.args.join(" "))
                .unwrap_or_default(),
            error: entry.damage().map(str::to_string),
        }
    }

    /// `exited (3)` / `running` / `dead`.
    fn status_text(&self) -> String {
        match self.exit_code {
            Some(code) => format!("{} ({code})", self.status.as_str()),
            None => self.status.as_str().to_string(),
        }
    }
}

/// What `docker ps` shows as IMAGE: the image as the user named it (`busybox`, an ID), or for
/// a record older than that, its normalized name, else its manifest's short digest. A
/// container on a directory shows the directory (absolute), one on the host's files `host`
/// (box.toml's `rootfs = "host"`).
fn image(state: &State) -> String {
    use box_rootfs::Root;
    if let Some(used) = &state.image {
        let short = || {
            let hex = used.manifest.trim_start_matches("sha256:");
            hex.get(..12).unwrap_or(hex).to_string()
        };
        return used
            .given
            .clone()
            .or_else(|| used.reference.clone())
            .unwrap_or_else(short);
    }
    match &state.spec.rootfs.root {
        Root::Dir(dir) => dir.display().to_string(),
        Root::Host => "host".to_string(),
        Root::Overlay(_) => "-".to_string(),
    }
}

/// `box ps [-a] [-q] [--format table|json|TEMPLATE]`. `-q` prints only the names (box's
/// containers have no other id); a template is rendered once per row, as Docker's.
pub fn ps(root: &Root, all: bool, quiet: bool, format: &str) -> Result<i32> {
    let mut rows = Vec::new();
    for name in root.names()? {
        // Removed since the listing: not a container any more.
        let Ok(entry) = root.entry(&name) else {
            continue;
        };
        // A damaged entry whose monitor lives may be running: plain `ps` shows it too.
        let live = entry.status() == Status::Running
            || (entry.status() == Status::Damaged && entry.live_monitor().is_some());
        if !(all || live) {
            continue;
        }
        if let Some(why) = entry.damage() {
            let monitor = match entry.live_monitor() {
                Some(m) => format!("its monitor (pid {}) is alive", m.pid),
                None => "no monitor watches it".to_string(),
            };
            eprintln!(
                "box: container {name}: {why}; {monitor}: `box stop {name}` and `box rm -f {name}` still work"
            );
        }
        rows.push(Row::of(&entry));
    }
    if quiet {
        let names: String = rows.iter().map(|r| format!("{}\n", r.name)).collect();
        print!("{}", names);
        return Ok(0);
    }
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&rows)?),
        "table" => print!("{}", table(&rows)),
        t if t.contains("{{") => {
            let template = Template::parse(t)?;
            let mut out = String::new();
            for row in &rows {
                out.push_str(&template.render(&serde_json::to_value(row)?)?);
                out.push('\n');
            }
            print!("{}", out);
        }
        other => {
            bail!("unknown format {other:?}: use `table`, `json` or a template ({{{{.Name}}}})")
        }
    }
    Ok(0)
}

/// Columns padded to their widest cell, as `docker ps` prints them.
pub fn table(rows: &[Row]) -> String {
    let mut cells = vec![[
        "NAME".to_string(),
        "IMAGE".to_string(),
        "STATUS".to_string(),
        "PID".to_string(),
        "CREATED".to_string(),
        "COMMAND".to_string(),
    ]];
    for r in rows {
        cells.push([
            r.name.clone(),
            if r.image.is_empty() {
                "-".to_string()
            } else {
                r.image.clone()
            },
            r.status_text(),
            r.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            r.created_at.clone(),
            r.command.clone(),
        ]);
    }
    box_cli::human::columns(&cells)
}
