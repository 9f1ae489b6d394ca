//! Registry authentication: the `WWW-Authenticate` challenge (Bearer token service or Basic)
//! and credentials from the files Docker and podman write.
//!
//! Credentials come from `$REGISTRY_AUTH_FILE` when set (podman's), else
//! `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: the `auths` entry of the
//! registry, as `auth` (base64 of `user:password`) or `username` and `password`. Credential
//! helpers (`credsStore`, `credHelpers`) and identity tokens are not supported: box says so
//! rather than pulling anonymously.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials {{ username: {:?}, password: <hidden> }}",
            self.username
        )
    }
}

impl Credentials {
    /// The `Authorization: Basic` value.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// What a registry's 401 asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// A token from `realm`, for `service` and `scope`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Parses a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` or
/// `Basic realm="…"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `key="value", key=value` pairs; a quoted value may hold commas and `\"`.
fn parse_params(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() || chars.next() != Some('=') {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
}

/// The token endpoint's answer (`token`, or OAuth's `access_token`).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub token: Option<String>,
    pub access_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// The credentials file box reads, by the precedence in the module's documentation.
pub fn default_auth_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        return Some(PathBuf::from(p));
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// The key a registry has in `auths`: Docker Hub's is its v1 index URL; others are
/// `host[:port]`, sometimes written as a URL.
fn normalize_key(key: &str) -> String {
    let key = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.docker.io" => "docker.io".into(),
        h => h.to_string(),
    }
}

/// The credentials for `registry` (as references write it: `docker.io`, `host:5000`) in
/// `file`; `Ok(None)` when the file or the entry is missing, an error when the entry is of a
/// kind box cannot use or the file is malformed.
pub fn credentials(file: &Path, registry: &str) -> Result<Option<Credentials>, String> {
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("read {}: {e}", file.display())),
    };
    let parsed: AuthFile =
        serde_json::from_slice(&text).map_err(|e| format!("parse {}: {e}", file.display()))?;
    let entry = parsed
        .auths
        .iter()
        .find(|(k, _)| normalize_key(k) == registry)
        .map(|(_, v)| v);
    let Some(entry) = entry else {
        let helper = parsed
            .cred_helpers
            .iter()
            .find(|(k, _)| normalize_key(k) == registry)
            .map(|(_, v)| v)
            .or(parsed.creds_store.as_ref());
        return match helper {
            Some(h) => Err(format!(
                "{}: credentials for {registry} are kept by the helper docker-credential-{h}, which box does not run",
                file.display()
            )),
            None => Ok(None),
        };
    };
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        }));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| format!("{}: the auth of {registry} is not base64", file.display()))?;
        let raw = String::from_utf8(raw)
            .map_err(|_| format!("{}: the auth of {registry} is not UTF-8", file.display()))?;
        let (u, p) = raw.split_once(':').ok_or_else(|| {
            format!(
                "{}: the auth of {registry} is not user:password",
                file.display()
            )
        })?;
        return Ok(Some(Credentials {
            username: u.into(),
            password: p.into(),
        }));
    }
    if entry.identitytoken.is_some() {
        return Err(format!(
            "{}: {registry} has an identity token, which box does not support",
            file.display()
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"bearer realm="http://h/t", scope="repository:a:pull,push""#),
            Some(Challenge::Bearer {
                realm: "http://h/t".into(),
                service: None,
                scope: Some("repository:a:pull,push".into())
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(
            parse_challenge("Bearer service=x"),
            None,
            "a realm is required"
        );
    }

    #[test]
    fn credentials_from_docker_and_podman_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        let b64 = base64::engine::general_purpose::STANDARD.encode("hubuser:hub:pass");
        std::fs::write(
            &file,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{b64}"}},
                "localhost:5000":{{"username":"u","password":"p"}},
                "tok.example":{{"identitytoken":"x"}}}},
                "credHelpers":{{"ecr.example":"ecr-login"}}}}"#
            ),
        )
        .unwrap();
        let hub = credentials(&file, "docker.io").unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("hubuser", "hub:pass")
        );
        assert_eq!(
            credentials(&file, "localhost:5000")
                .unwrap()
                .unwrap()
                .basic(),
            "Basic dTpw"
        );
        assert_eq!(credentials(&file, "other.example").unwrap(), None);
        assert!(credentials(&file, "tok.example")
            .unwrap_err()
            .contains("identity token"));
        assert!(credentials(&file, "ecr.example")
            .unwrap_err()
            .contains("docker-credential-ecr-login"));
        assert_eq!(
            credentials(&dir.path().join("missing"), "docker.io").unwrap(),
            None
        );
        assert!(
            !format!("{hub:?}").contains("hub:pass"),
            "passwords stay out of debug output"
        );
    }
}
