//! `box ps`: one line per container, its status checked against the kernel.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::state::{Root, State, Status};

/// One row of `box ps`, also its JSON form.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    pub name: String,
    pub status: Status,
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub created_at: String,
    pub command: String,
}

impl Row {
    pub fn of(state: &State) -> Row {
        let status = state.status();
        Row {
            name: state.name.clone(),
            status,
            pid: state.running_pid(),
            exit_code: state.exit_code.filter(|_| status == Status::Exited),
            created_at: state.created_at.clone(),
            command: state.spec.process.args.join(" "),
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

pub fn ps(root: &Root, all: bool, format: &str) -> Result<i32> {
    let mut rows = Vec::new();
    for name in root.names()? {
        // A directory whose state is unreadable (a start that crashed half-way) still shows.
        let row = match root.load(&name) {
            Ok(state) => Row::of(&state),
            Err(_) => Row {
                name: name.to_string(),
                status: Status::Dead,
                pid: None,
                exit_code: None,
                created_at: String::new(),
                command: String::new(),
            },
        };
        if all || row.status == Status::Running {
            rows.push(row);
        }
    }
    match format {
        "json" => super::print(&format!("{}\n", serde_json::to_string_pretty(&rows)?)),
        "table" => super::print(&table(&rows)),
        other => bail!("unknown format {other:?}: use `table` or `json`"),
    }
    Ok(0)
}

/// Columns padded to their widest cell, as `docker ps` prints them.
pub fn table(rows: &[Row]) -> String {
    let mut cells = vec![[
        "NAME".to_string(),
        "STATUS".to_string(),
        "PID".to_string(),
        "CREATED".to_string(),
        "COMMAND".to_string(),
    ]];
    for r in rows {
        cells.push([
            r.name.clone(),
            r.status_text(),
            r.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            r.created_at.clone(),
            r.command.clone(),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}
