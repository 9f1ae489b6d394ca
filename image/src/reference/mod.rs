//! Image references as Docker reads them: `busybox`, `ubuntu:24.04`,
//! `docker.io/library/ubuntu:24.04`, `host:5000/app@sha256:…`.
//!
//! The grammar is the distribution project's (`reference := name [":" tag] ["@" digest]`), and
//! normalization is Docker's: a first component that has no `.` or `:` and is not `localhost`
//! is not a registry, so the image is on Docker Hub (`docker.io`), where one-component names
//! live under `library/`; no tag and no digest means `:latest`. References come from the
//! command line and box.toml, so the parser is strict and allocation-bounded.

use std::fmt;

use crate::digest::Digest;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API answers.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The tag of a reference that names none.
pub const DEFAULT_TAG: &str = "latest";
/// The longest name (registry and repository) the distribution project allows.
const NAME_MAX: usize = 255;
const TAG_MAX: usize = 128;

/// A normalized image reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a reference is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference {input:?}: {reason}")]
pub struct ReferenceError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Reference {
    /// Parses and normalizes a reference.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let err = |reason: &str| ReferenceError {
            input: input.chars().take(300).collect(),
            reason: reason.into(),
        };
        if input.is_empty() {
            return Err(err("empty"));
        }
        if input.len() > NAME_MAX + 1 + TAG_MAX + 1 + 7 + 64 {
            return Err(err("too long"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => (
                rest,
                Some(Digest::parse(d).map_err(|e| err(&e.to_string()))?),
            ),
            None => (input, None),
        };
        // A ':' after the last '/' starts the tag; before it, it is a registry's port.
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(err)?;
        }
        if name.is_empty() {
            return Err(err("no repository name"));
        }
        if name.len() > NAME_MAX {
            return Err(err("name longer than 255 characters"));
        }
        if digest.is_none() && tag.is_none() && is_hex_id(name) {
            return Err(err(
                "a 64-digit hexadecimal name is an image ID, not a repository",
            ));
        }
        let (registry, path) = split_registry(name);
        if let Some(registry) = registry {
            check_registry(registry).map_err(err)?;
        }
        check_path(path).map_err(err)?;
        let registry = match registry {
            None | Some("index.docker.io") => DOCKER_HUB.to_string(),
            Some(r) => r.to_string(),
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The registry as written in references: `docker.io`, `host:5000`, `[::1]:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The registry's host and port for the API (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The repository within the registry: `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same name with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        check_tag(tag).map_err(|reason| ReferenceError {
            input: tag.into(),
            reason: reason.into(),
        })?;
        Ok(Reference {
            tag: Some(tag.into()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same name with a digest and no tag: how a pulled image is found again exactly.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// What the registry API is asked for: the digest when there is one, else the tag.
    pub fn api_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// The short form Docker shows: `busybox:latest`, `user/app:1`, `host:5000/app:1`.
    pub fn familiar_name(&self) -> String {
        match (
            self.registry.as_str(),
            self.repository.strip_prefix("library/"),
        ) {
            (DOCKER_HUB, Some(short)) if !short.contains('/') => short.to_string(),
            (DOCKER_HUB, _) => self.repository.clone(),
            _ => self.name(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

fn is_hex_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Docker's rule: the first component names a registry when it has a `.` or a `:`, is
/// `localhost`, or has an uppercase letter (which no repository may have).
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// `[\w][\w.-]{0,127}`
fn check_tag(tag: &str) -> Result<(), &'static str> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match tag.as_bytes() {
        [] => Err("empty tag"),
        t if t.len() > TAG_MAX => Err("tag longer than 128 characters"),
        [first, rest @ ..]
            if word(*first) && rest.iter().all(|&b| word(b) || b"._-".contains(&b)) =>
        {
            Ok(())
        }
        _ => Err("a tag is letters, digits, '_', '.' and '-', not starting with '.' or '-'"),
    }
}

/// `host[:port]` where host is DNS labels, an IPv4 address or `[IPv6]`.
fn check_registry(registry: &str) -> Result<(), &'static str> {
    const BAD: &str = "invalid registry host";
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or(BAD)?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address of the registry");
        }
        match after {
            "" => ("", None),
            p => ("", Some(p.strip_prefix(':').ok_or(BAD)?)),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
            return Err("invalid registry port");
        }
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    if !registry.starts_with('[') && !host.split('.').all(label_ok) {
        return Err(BAD);
    }
    Ok(())
}

/// Components of `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`, separated by `/`.
fn check_path(path: &str) -> Result<(), &'static str> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("repository name must be lowercase");
    }
    for component in path.split('/') {
        let b = component.as_bytes();
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
            return Err("each part of a repository name starts and ends with a letter or digit");
        }
        let mut i = 0;
        while i < b.len() {
            if alnum(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(b[i]) {
                i += 1;
            }
            let sep = &b[start..i];
            let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|&c| c == b'-');
            if !ok {
                return Err(
                    "a repository name separates letters and digits with '.', '_', '__' or '-'",
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
