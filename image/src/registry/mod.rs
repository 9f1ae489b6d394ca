//! A client of the OCI distribution API, for pulls: `GET /v2/` to find the scheme and the
//! authentication the registry wants, manifests by tag or digest, blobs as streams.
//! Redirects (registries send blob downloads to a CDN) are followed here, and credentials
//! are sent only to the registry's own host and its token service.

pub mod auth;
mod http;
mod mirror;
mod transport;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

use auth::{parse_challenge, Challenge, Credentials, TokenResponse};
use http::{error_text, header, resolve_location};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

pub use mirror::Mirror;
pub use transport::is_insecure;

/// The largest manifest or index box reads (containerd's limit).
pub const MANIFEST_MAX: u64 = 4 << 20;

/// The manifest media types box asks for, most preferred first.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (`host` or `host:port`) reachable over plain HTTP or unverified HTTPS,
    /// besides the loopback ones.
    pub insecure: Vec<String>,
    /// The credentials file (default: [`auth::default_auth_file`]).
    pub auth_file: Option<PathBuf>,
    /// Docker Hub's mirrors, asked in order before Docker Hub itself ([`Mirror`]).
    pub mirrors: Vec<Mirror>,
}

/// Where a connection goes: the name for credentials and messages, the API's host, and
/// the schemes to try with whether to verify TLS.
struct Target<'a> {
    registry: &'a str,
    host: &'a str,
    attempts: &'a [(&'a str, bool)],
}

/// A manifest as the registry served it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: Digest,
}

/// A connection to one repository of one registry.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    registry: String,
    repository: String,
    credentials: Option<Credentials>,
    authorization: Mutex<Option<String>>,
}

impl Client {
    /// Finds how to talk to `reference`'s registry and authenticates for pulling from its
    /// repository.
    pub fn connect(reference: &Reference, opts: &RegistryOptions) -> Result<Client> {
        let registry = reference.registry();
        let insecure = is_insecure(registry, &opts.insecure);
        let attempts: &[(&str, bool)] = match insecure {
            true => &[("https", false), ("http", false)],
            false => &[("https", true)],
        };
        let target = Target {
            registry,
            host: reference.api_host(),
            attempts,
        };
        Client::connect_to(&target, reference.repository(), opts)
    }

    /// The same repository on a mirror of its registry: its own credentials (the mirror's
    /// host in the auth file; Docker Hub's are never sent to a mirror), its own scheme.
    pub fn connect_mirror(
        mirror: &Mirror,
        reference: &Reference,
        opts: &RegistryOptions,
    ) -> Result<Client> {
        let insecure = is_insecure(&mirror.host, &opts.insecure);
        mirror.check(&opts.insecure)?;
        let attempts: &[(&str, bool)] = match (mirror.plain_http, insecure) {
            (true, _) => &[("http", false)],
            (false, true) => &[("https", false)],
            (false, false) => &[("https", true)],
        };
        let shown = mirror.to_string();
        let target = Target {
            registry: &shown,
            host: &mirror.host,
            attempts,
        };
        Client::connect_to(&target, reference.repository(), opts)
    }

    fn connect_to(target: &Target<'_>, repository: &str, opts: &RegistryOptions) -> Result<Client> {
        let registry = target.registry.to_string();
        let host = target.host;
        let fail = |step: &str, message: String| Error::Registry {
            registry: registry.clone(),
            step: step.into(),
            message,
        };
        let auth_file = opts.auth_file.clone().or_else(auth::default_auth_file);
        let key = target
            .registry
            .split_once("://")
            .map_or(target.registry, |(_, h)| h);
        let credentials = match &auth_file {
            Some(file) => auth::credentials(file, key).map_err(|m| fail("credentials", m))?,
            None => None,
        };
        let mut last = String::new();
        for &(scheme, verify) in target.attempts {
            let agent = transport::agent(host, verify).map_err(|m| fail("TLS", m))?;
            let base = format!("{scheme}://{host}");
            match agent.get(format!("{base}/v2/")).call() {
                Ok(resp) => {
                    let client = Client {
                        agent,
                        base,
                        registry: registry.clone(),
                        repository: repository.to_string(),
                        credentials,
                        authorization: Mutex::new(None),
                    };
                    if resp.status() == 401 {
                        client.authenticate(header(&resp, "www-authenticate"))?;
                    } else if !resp.status().is_success() {
                        return Err(fail("GET /v2/", format!("HTTP {}", resp.status())));
                    }
                    return Ok(client);
                }
                Err(e) => last = format!("{scheme}://{host}: {e}"),
            }
        }
        Err(fail("connect", last))
    }

    /// Answers a challenge: a token from the token service, or Basic credentials.
    fn authenticate(&self, challenge: Option<String>) -> Result<()> {
        let fail = |message: String| Error::Registry {
            registry: self.registry.clone(),
            step: "authenticate".into(),
            message,
        };
        let challenge = challenge.as_deref().and_then(parse_challenge);
        let value = match challenge {
            Some(Challenge::Basic) => match &self.credentials {
                Some(c) => c.basic(),
                None => {
                    return Err(fail(
                        "the registry wants a user name and password; none are configured".into(),
                    ))
                }
            },
            Some(Challenge::Bearer { realm, service, .. }) => {
                self.token(&realm, service.as_deref())?
            }
            None => return Err(fail("401 without a challenge box understands".into())),
        };
        *self.authorization.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        Ok(())
    }

    /// A pull token for the repository (anonymous, or with the configured credentials).
    fn token(&self, realm: &str, service: Option<&str>) -> Result<String> {
        let fail = |message: String| Error::Registry {
            registry: self.registry.clone(),
            step: format!("token from {realm}"),
            message,
        };
        let plain_ok = realm.starts_with("http://") && self.base.starts_with("http://");
        if !(realm.starts_with("https://") || plain_ok) {
            return Err(fail("the token service must be HTTPS".into()));
        }
        let mut req = self
            .agent
            .get(realm)
            .query("scope", format!("repository:{}:pull", self.repository));
        if let Some(service) = service {
            req = req.query("service", service);
        }
        if let Some(c) = &self.credentials {
            req = req.header("Authorization", c.basic());
        }
        let mut resp = req.call().map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!(
                "HTTP {}{}",
                resp.status(),
                error_text(&mut resp)
            )));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| fail(e.to_string()))?;
        let body: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?;
        body.token
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| fail("no token in the answer".into()))
    }

    /// `GET` of a path under `/v2/NAME/`, authenticated, following redirects; a 401 is
    /// answered once (a token for another scope), other statuses are returned.
    fn get(&self, path: &str, accept: Option<&str>) -> Result<ureq::http::Response<ureq::Body>> {
        let mut url = format!("{}/v2/{}/{path}", self.base, self.repository);
        let mut answered = false;
        for _ in 0..10 {
            let mut req = self.agent.get(&url);
            if let Some(accept) = accept {
                req = req.header("Accept", accept);
            }
            let ours = url.starts_with(&format!("{}/", self.base));
            if ours {
                if let Some(a) = self
                    .authorization
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                {
                    req = req.header("Authorization", a);
                }
            }
            let resp = req.call().map_err(|e| self.fail(path, e.to_string()))?;
            match resp.status().as_u16() {
                401 if ours && !answered => {
                    answered = true;
                    self.authenticate(header(&resp, "www-authenticate"))?;
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = header(&resp, "location")
                        .ok_or_else(|| self.fail(path, "a redirect without a location".into()))?;
                    url = resolve_location(&url, &location);
                }
                _ => return Ok(resp),
            }
        }
        Err(self.fail(path, "too many redirects".into()))
    }

    fn fail(&self, path: &str, message: String) -> Error {
        Error::Registry {
            registry: self.registry.clone(),
            step: format!("GET /v2/{}/{path}", self.repository),
            message,
        }
    }

    /// A manifest or index by tag or digest, checked against the digest when one was given.
    pub fn manifest(&self, reference: &str) -> Result<Fetched> {
        let path = format!("manifests/{reference}");
        let mut resp = self.get(&path, Some(&MANIFEST_TYPES.join(", ")))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = error_text(&mut resp);
            return Err(self.fail(
                &path,
                match status.as_u16() {
                    404 => format!("not found{text}"),
                    401 | 403 => format!("access denied (HTTP {status}){text}"),
                    _ => format!("HTTP {status}{text}"),
                },
            ));
        }
        let media_type = header(&resp, "content-type")
            .map(|t| t.split(';').next().unwrap_or("").trim().to_string());
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MANIFEST_MAX)
            .read_to_vec()
            .map_err(|e| self.fail(&path, e.to_string()))?;
        let digest = Digest::of(&bytes);
        if let Ok(expected) = Digest::parse(reference) {
            if digest != expected {
                return Err(Error::Verify {
                    what: "manifest",
                    digest: expected,
                    reason: format!("content has digest {digest}"),
                });
            }
        }
        Ok(Fetched {
            bytes,
            media_type,
            digest,
        })
    }

    /// A blob's content, as a stream (the caller checks it).
    pub fn blob(&self, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let path = format!("blobs/{digest}");
        let mut resp = self.get(&path, None)?;
        if !resp.status().is_success() {
            let text = error_text(&mut resp);
            return Err(self.fail(&path, format!("HTTP {}{text}", resp.status())));
        }
        Ok(Box::new(resp.into_body().into_reader()))
    }
}
