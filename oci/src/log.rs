//! `--log` and `--log-format`: errors (and warnings) also go to the caller's log file, as text
//! or as runc's JSON lines (`{"level":"error","msg":"…","time":"…"}`), which containerd's shim
//! reads back to explain a failure.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

static TARGET: OnceLock<(PathBuf, bool)> = OnceLock::new();

pub fn init(path: Option<PathBuf>, format: &str) {
    if let Some(path) = path {
        let _ = TARGET.set((path, format == "json"));
    }
}

pub fn error(msg: &str) {
    write("error", msg);
}

pub fn warn(msg: &str) {
    write("warning", msg);
}

fn write(level: &str, msg: &str) {
    eprintln!("box-runc: {level}: {msg}");
    let Some((path, json)) = TARGET.get() else {
        return;
    };
    let line = if *json {
        serde_json::json!({"level": level, "msg": msg, "time": crate::state::now_rfc3339()})
            .to_string()
    } else {
        format!("{} {level}: {msg}", crate::state::now_rfc3339())
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
