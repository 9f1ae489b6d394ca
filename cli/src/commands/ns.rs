//! `box ns A [B]`: the seed's proof as a command. Namespace by namespace, the inode of each
//! side, read from `/proc/PID/ns` now; same inode = shared, different = isolated.

use anyhow::{bail, Context, Result};

use super::parse;
use crate::state::Root;

pub fn ns(root: &Root, a: &str, b: Option<&str>) -> Result<i32> {
    let b = b.unwrap_or("host");
    let pid_a = side(root, a)?;
    let pid_b = side(root, b)?;
    let rows = box_ns::compare(pid_a, pid_b).context("read /proc/PID/ns")?;
    let table: Vec<[String; 4]> = std::iter::once([
        "KIND".to_string(),
        a.to_string(),
        b.to_string(),
        String::new(),
    ])
    .chain(rows.iter().map(|r| {
        [
            r.kind.proc_name().to_string(),
            r.a.ino.to_string(),
            r.b.ino.to_string(),
            if r.shared() { "shared" } else { "isolated" }.to_string(),
        ]
    }))
    .collect();
    let mut widths = [0usize; 4];
    for row in &table {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.len());
        }
    }
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
    Ok(0)
}

/// `host` is box's own namespaces (`None` for `box_ns::compare`); a name must be running.
fn side(root: &Root, name: &str) -> Result<Option<i32>> {
    if name == "host" {
        return Ok(None);
    }
    let state = root.load(&parse(name)?)?;
    match state.running_pid() {
        Some(pid) => Ok(Some(pid)),
        None => bail!(
            "container {name} is {}: only a running container has namespaces",
            state.status().as_str()
        ),
    }
}
