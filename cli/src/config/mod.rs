//! `box.toml`: reading, checking and turning it into a `launcher::Spec`. This is the only
//! place that knows the file format.

mod locate;
mod schema;
mod to_spec;

use std::fmt;
use std::path::{Path, PathBuf};

pub use locate::Seg;
use locate::{line_col, render, suggest, Spans};
pub use schema::BoxFile;
pub use to_spec::to_spec;

/// A problem in a box.toml, with where it is.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub at: Option<(usize, usize)>,
    /// The key path (`resources.memory`), when one is to blame.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A loaded box.toml: the parsed file and what is needed to point into it.
pub struct Loaded {
    pub file: BoxFile,
    pub path: PathBuf,
    source: String,
}

impl Loaded {
    /// An error about the key at `path` (its location looked up in the source).
    pub fn error_at(&self, path: &[Seg], message: impl Into<String>) -> ConfigError {
        let at = Spans::parse(&self.source)
            .ok()
            .and_then(|s| s.key_span(path))
            .map(|span| line_col(&self.source, span.start));
        ConfigError {
            file: self.path.clone(),
            at,
            key: (!path.is_empty()).then(|| render(path)),
            message: message.into(),
        }
    }

    /// The directory relative paths in the file are relative to.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Reads and parses `path`; any problem comes back as one `ConfigError`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let source = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        at: None,
        key: None,
        message: format!("cannot read: {e}"),
    })?;
    match toml::from_str::<BoxFile>(&source) {
        Ok(file) => Ok(Loaded {
            file,
            path: path.to_path_buf(),
            source,
        }),
        Err(e) => Err(parse_error(path, &source, &e)),
    }
}

fn parse_error(path: &Path, source: &str, e: &toml::de::Error) -> ConfigError {
    let at = e.span().map(|s| line_col(source, s.start));
    let mut key_path = match (Spans::parse(source), e.span()) {
        (Ok(spans), Some(span)) => spans.path_at(span.start),
        _ => Vec::new(),
    };
    let message = e.message().trim();
    let message = if let Some(rest) = message.strip_prefix("unknown field `") {
        let (word, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let mut text = format!("unknown key \"{word}\"");
        match suggest(word, candidates.iter().copied()) {
            Some(good) => text.push_str(&format!(" (did you mean \"{good}\"?)")),
            None if !candidates.is_empty() => {
                text.push_str(&format!("; known keys: {}", candidates.join(", ")))
            }
            None => {}
        }
        // The path ends at the unknown key itself; name its table instead.
        if key_path.last() == Some(&Seg::Key(word.to_string())) {
            key_path.pop();
        }
        text
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let word = rest.split('`').next().unwrap_or(rest);
        // A key can only be missing from a table: drop what leads into a plain value.
        if let Ok(spans) = Spans::parse(source) {
            while !key_path.is_empty() && !spans.is_table(&key_path) {
                key_path.pop();
            }
        }
        key_path.push(Seg::Key(word.to_string()));
        "this required key is missing".to_string()
    } else {
        message.replace('`', "\"")
    };
    ConfigError {
        file: path.to_path_buf(),
        at,
        key: (!key_path.is_empty()).then(|| render(&key_path)),
        message,
    }
}
