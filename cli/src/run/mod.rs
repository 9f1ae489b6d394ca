//! `box run`: Docker's one-line form of a container. The options become a box.toml
//! ([`to_toml`]), which is then read exactly as `box up` reads a file, so every check of
//! box.toml applies; an error about a key is told about the option that set it.

mod args;
mod doc;
mod limits;
mod parse;
mod to_toml;

use std::fmt;
use std::path::{Path, PathBuf};

pub use args::RunArgs;
pub use to_toml::{translate, Caller, Translated};

use crate::config::{self, ConfigError, Planned};

/// What is wrong with a `box run` line: the option to blame (when one is), and why.
#[derive(Debug, PartialEq)]
pub struct RunError {
    pub flag: Option<String>,
    pub message: String,
}

impl RunError {
    pub fn flag(flag: &str, message: impl Into<String>) -> RunError {
        RunError {
            flag: Some(flag.to_string()),
            message: message.into(),
        }
    }

    pub fn plain(message: impl Into<String>) -> RunError {
        RunError {
            flag: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.flag {
            Some(flag) => write!(f, "run: {flag}: {}", self.message),
            None => write!(f, "run: {}", self.message),
        }
    }
}

impl std::error::Error for RunError {}

/// The path errors and the state name for a container of `box run` (it has no file). Its
/// parent is where relative paths would be resolved: `translate` makes them all absolute.
pub fn pseudo_path(cwd: &Path) -> PathBuf {
    cwd.join("(box run)")
}

impl Translated {
    /// The box.toml, as `box run --dry-run` prints it.
    pub fn to_toml(&self) -> Result<String, RunError> {
        toml::to_string(&self.doc)
            .map_err(|e| RunError::plain(format!("cannot write box.toml: {e}")))
    }

    /// The box.toml read back and checked as `box up` would; its errors name the option.
    pub fn plan(&self, cwd: &Path, host: &config::Host<'_>) -> Result<Planned, RunError> {
        let text = self.to_toml()?;
        let loaded = config::from_text(&pseudo_path(cwd), text).map_err(|e| self.blame(e))?;
        let mut plan = config::plan(&loaded, host).map_err(|e| self.blame(e))?;
        plan.pop()
            .ok_or_else(|| RunError::plain("the options define no container"))
    }

    /// A box.toml error, told about the option that set its key: the option of the longest
    /// key that holds the error's (`resources` holds `resources.memory`), else the first
    /// option of a key the error's holds (an error on a whole list), else the key itself.
    fn blame(&self, e: ConfigError) -> RunError {
        let Some(key) = e.key else {
            return RunError::plain(e.message);
        };
        let holds = |outer: &str, inner: &str| {
            inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        };
        let origin = self
            .origins
            .iter()
            .filter(|(k, _)| holds(k, &key))
            .max_by_key(|(k, _)| k.len())
            .or_else(|| self.origins.iter().find(|(k, _)| holds(&key, k)));
        match origin {
            Some((_, flag)) => RunError::flag(flag, e.message),
            None => RunError::flag(&key, e.message),
        }
    }
}

#[cfg(test)]
mod tests;
