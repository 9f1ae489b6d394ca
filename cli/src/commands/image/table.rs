//! `box images`: one row per name (an unnamed image has one row of `<none>`), as `docker
//! images --digests` shows them; or JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use box_cli::human::{ago, human_size, parse_rfc3339};
use box_image::{ImageRecord, Reference, Store};
use serde::Serialize;

/// One row, also its JSON form.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Row {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub created: Option<String>,
    pub size: u64,
}

pub fn rows(images: &[ImageRecord]) -> Vec<Row> {
    let mut rows = Vec::new();
    for img in images {
        let row = |repository: String, tag: String, digest: String| Row {
            repository,
            tag,
            digest,
            id: img.id.to_string(),
            created: img.config.created.clone(),
            size: img.size,
        };
        if img.names.is_empty() {
            rows.push(row("<none>".into(), "<none>".into(), "<none>".into()));
        }
        for name in &img.names {
            let (repository, tag) = match Reference::parse(&name.reference) {
                Ok(r) => (r.familiar_name(), r.tag().unwrap_or("<none>").to_string()),
                Err(_) => (name.reference.clone(), "<none>".into()),
            };
            rows.push(row(repository, tag, name.repo_digest.to_string()));
        }
    }
    rows
}

pub fn images(store: &Store, format: &str) -> Result<i32> {
    let rows = rows(&store.images()?);
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&rows)?),
        "table" => print!("{}", table(&rows, now())),
        other => bail!("unknown format {other:?}: use `table` or `json`"),
    }
    Ok(0)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Columns padded to their widest cell.
pub fn table(rows: &[Row], now: i64) -> String {
    let mut cells =
        vec![["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"].map(String::from)];
    for r in rows {
        let id = r.id.strip_prefix("sha256:").unwrap_or(&r.id);
        let created = r
            .created
            .as_deref()
            .and_then(parse_rfc3339)
            .map_or_else(|| "N/A".to_string(), |t| ago(now - t));
        cells.push([
            r.repository.clone(),
            r.tag.clone(),
            r.digest.clone(),
            id.chars().take(12).collect(),
            created,
            human_size(r.size),
        ]);
    }
    box_cli::human::columns(&cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_with_named_and_unnamed_images() {
        let rows = vec![
            Row {
                repository: "busybox".into(),
                tag: "latest".into(),
                digest: format!("sha256:{}", "a".repeat(64)),
                id: format!("sha256:{}", "b".repeat(64)),
                created: Some("2024-01-01T00:00:00Z".into()),
                size: 4_261_000,
            },
            Row {
                repository: "<none>".into(),
                tag: "<none>".into(),
                digest: "<none>".into(),
                id: format!("sha256:{}", "c".repeat(64)),
                created: None,
                size: 0,
            },
        ];
        let now = parse_rfc3339("2024-01-22T00:00:00Z").unwrap();
        insta::assert_snapshot!(table(&rows, now));
    }
}
