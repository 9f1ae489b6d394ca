//! Container names. A name becomes a directory under the state root and a cgroup (`box/NAME`),
//! so it comes from hostile input (box.toml, the command line, a directory listing) and is
//! checked by one rule, here, before any path is built from it.

use std::fmt;
use std::ops::Deref;

/// A checked container name: 1 to 64 of `[A-Za-z0-9_.-]`, starting with a letter or digit
/// (so never empty, `.`, `..`, nor anything with a `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

/// The longest name: a cgroup and a state directory each, with room to spare in any path.
pub const MAX_LEN: usize = 64;

/// A name that breaks the rule; its message says the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid container name {:?}: use 1 to {MAX_LEN} letters, digits, '_', '.' or '-', \
             starting with a letter or digit",
            self.0
        )
    }
}

impl std::error::Error for InvalidName {}

impl Name {
    pub fn parse(text: &str) -> Result<Name, InvalidName> {
        let mut chars = text.chars();
        let ok = text.len() <= MAX_LEN
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if ok {
            Ok(Name(text.to_string()))
        } else {
            Err(InvalidName(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    /// As a `str` prints, width and alignment included (`{name:<width$}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_a_directory_are_refused() {
        for bad in [
            "", ".", "..", "../x", "/abs", "a/b", ".hidden", "-x", "_x", "a\0b", "a b", "é",
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Name::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn ordinary_names_pass() {
        for good in ["web", "c1", "a.b-c_d", "9lives", "a..", &"a".repeat(64)] {
            assert_eq!(Name::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn it_pads_like_a_string() {
        assert_eq!(format!("{:<5}|", Name::parse("ab").unwrap()), "ab   |");
    }

    #[test]
    fn the_message_states_the_rule() {
        assert_eq!(
            Name::parse("../x").unwrap_err().to_string(),
            "invalid container name \"../x\": use 1 to 64 letters, digits, '_', '.' or '-', \
             starting with a letter or digit"
        );
    }
}
