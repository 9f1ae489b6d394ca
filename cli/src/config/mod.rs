//! `box.toml`: reading, checking and turning it into a `launcher::Spec`. This is the only
//! place that knows the file format.

mod devices;
mod host_root;
mod image;
mod locate;
mod network;
mod plan;
mod process;
mod resources;
mod rootfs;
mod schema;
mod security;
mod stop;
mod to_spec;

use std::fmt;
use std::path::{Path, PathBuf};

pub use image::{Images, Resolved, UsedImage};
use locate::{line_col, suggest, Spans};
pub use locate::{render, Seg};
pub use plan::{plan, start_order, Planned};
pub use stop::{parse_signal, Stop};
pub use to_spec::Host;

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

/// A loaded box.toml: its containers and what is needed to point into the file.
pub struct Loaded {
    pub path: PathBuf,
    source: String,
    /// In the order the file defines them.
    containers: Vec<Def>,
}

/// One container as the file defines it.
pub struct Def {
    /// The table key under `[containers]`; the `name` key in the single-container form.
    pub name: Option<String>,
    /// Where its keys live: empty for the single form, `containers.NAME` otherwise.
    prefix: Vec<Seg>,
    body: schema::Container,
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

    /// The file's containers, in the order it defines them.
    pub fn containers(&self) -> &[Def] {
        &self.containers
    }
}

/// The key that holds the several-container form.
const CONTAINERS: &str = "containers";

/// The largest box.toml box reads: a file is a few hundred bytes; this only keeps `box
/// validate /dev/zero` (or a huge file) from eating memory.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Reads and parses `path`; any problem comes back as one `ConfigError`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let source = read_bounded(path).map_err(|message| ConfigError {
        file: path.to_path_buf(),
        at: None,
        key: None,
        message,
    })?;
    from_text(path, source)
}

/// Parses `source` as the box.toml at `path`: errors name `path`, and relative paths in the
/// file are relative to its directory. Nothing is read from `path` itself.
pub fn from_text(path: &Path, source: String) -> Result<Loaded, ConfigError> {
    // Which form: a syntax error falls through to the single form, whose parse reports it.
    let top = Spans::parse(&source).map_or(Vec::new(), |s| s.keys(&[]));
    let mut loaded = Loaded {
        path: path.to_path_buf(),
        source,
        containers: Vec::new(),
    };
    if !top.iter().any(|k| k == CONTAINERS) {
        let body: schema::Container =
            toml::from_str(&loaded.source).map_err(|e| parse_error(path, &loaded.source, &e))?;
        loaded.containers.push(Def {
            name: body.name.clone(),
            prefix: Vec::new(),
            body,
        });
        return Ok(loaded);
    }
    if let Some(other) = top.iter().find(|k| *k != CONTAINERS) {
        return Err(loaded.error_at(
            &[Seg::Key(other.clone())],
            "a file defines one container at the top level or several as [containers.NAME] \
             tables, never both: move this key into the tables",
        ));
    }
    let compose: schema::Compose =
        toml::from_str(&loaded.source).map_err(|e| parse_error(path, &loaded.source, &e))?;
    // The file's order, not the map's: independent containers start in the order written.
    let order =
        Spans::parse(&loaded.source).map_or(Vec::new(), |s| s.keys(&[Seg::Key(CONTAINERS.into())]));
    let mut bodies = compose.containers;
    for name in order {
        let Some(body) = bodies.remove(&name) else {
            continue;
        };
        loaded.containers.push(Def {
            prefix: vec![Seg::Key(CONTAINERS.into()), Seg::Key(name.clone())],
            name: Some(name),
            body,
        });
    }
    for (name, body) in bodies {
        loaded.containers.push(Def {
            prefix: vec![Seg::Key(CONTAINERS.into()), Seg::Key(name.clone())],
            name: Some(name),
            body,
        });
    }
    if loaded.containers.is_empty() {
        return Err(loaded.error_at(
            &[Seg::Key(CONTAINERS.into())],
            "defines no container: add a [containers.NAME] table with a command",
        ));
    }
    Ok(loaded)
}

/// The text of a regular file of at most [`MAX_FILE_SIZE`] bytes. Opened non-blocking so that
/// a fifo cannot hang box before it is refused.
fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file: a box.toml is a file".into());
    }
    let too_big = || format!("larger than {} MiB: not a box.toml", MAX_FILE_SIZE >> 20);
    if meta.len() > MAX_FILE_SIZE {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "cannot read: stream did not contain valid UTF-8".into())
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
