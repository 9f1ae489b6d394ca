//! HTTP for the registry client: a synchronous client (ureq) over rustls with the `ring`
//! provider, trusting the system's CA bundle (and Docker's per-registry
//! `/etc/docker/certs.d/HOST/*.crt`), as Docker does, rather than a bundled root list.
//! HTTPS always, except for insecure registries (the user's list, and `localhost`,
//! `127.0.0.0/8`, `::1` as Docker treats them): those are tried over HTTPS without
//! verification first, then over plain HTTP.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Where distributions keep the system's CA bundle (Go's list, which Docker uses).
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Whether `registry` (`host[:port]`) may be reached without verified TLS.
pub fn is_insecure(registry: &str, listed: &[String]) -> bool {
    if listed.iter().any(|l| l == registry) {
        return true;
    }
    let host = host_of(registry);
    if listed.iter().any(|l| l == host) {
        return true;
    }
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of `host[:port]` or `[v6]:port`.
fn host_of(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.rsplit_once(':').map_or(registry, |(h, _)| h)
}

/// An HTTP agent: verifying with the system's roots and `host`'s extra CAs, or (for an
/// insecure registry) not verifying.
pub fn agent(host: &str, verify: bool) -> Result<ureq::Agent, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider);
    tls = if verify {
        tls.root_certs(RootCerts::Specific(Arc::new(roots(host)?)))
    } else {
        tls.disable_verification(true)
    };
    let config = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        // Redirects are followed by the client, which decides where credentials go.
        .max_redirects(0)
        .user_agent(concat!("box/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        // A stalled transfer fails rather than hanging the pull for ever.
        .timeout_per_read(Some(Duration::from_secs(120)))
        .build();
    Ok(config.into())
}

/// The system's CA certificates and those Docker and podman keep for `host`.
fn roots(host: &str) -> Result<Vec<Certificate<'static>>, String> {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    match std::env::var_os("SSL_CERT_FILE") {
        Some(f) => files.push(f.into()),
        None => files.extend(
            CA_BUNDLES
                .iter()
                .map(Into::into)
                .find(|p: &std::path::PathBuf| p.is_file()),
        ),
    }
    for dir in ["/etc/docker/certs.d", "/etc/containers/certs.d"] {
        let dir = Path::new(dir).join(host.replace(['/', '\0'], "_"));
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "crt")),
            );
        }
    }
    let mut certs = Vec::new();
    for file in &files {
        let pem = std::fs::read(file)
            .map_err(|e| format!("read CA certificates {}: {e}", file.display()))?;
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                certs.push(c);
            }
        }
    }
    if certs.is_empty() {
        return Err(
            "no CA certificates found (install ca-certificates, or set SSL_CERT_FILE)".into(),
        );
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_listed_registries_are_insecure() {
        let none: Vec<String> = vec![];
        assert!(is_insecure("localhost:5000", &none));
        assert!(is_insecure("localhost", &none));
        assert!(is_insecure("127.0.0.1:5000", &none));
        assert!(is_insecure("127.1.2.3", &none));
        assert!(is_insecure("[::1]:5000", &none));
        assert!(!is_insecure("docker.io", &none));
        assert!(!is_insecure("localhost.example.com:5000", &none));
        assert!(!is_insecure("10.0.0.1:5000", &none));
        let listed = vec!["reg.lan:5000".to_string(), "other.lan".to_string()];
        assert!(is_insecure("reg.lan:5000", &listed));
        assert!(!is_insecure("reg.lan:6000", &listed));
        assert!(is_insecure("other.lan:443", &listed));
    }
}
