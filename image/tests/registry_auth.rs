//! The pull's HTTP side against a registry that behaves as Docker Hub does: `GET /v2/`
//! answers 401 with a Bearer challenge, tokens come from a separate token service (with the
//! user's credentials from `$REGISTRY_AUTH_FILE`, or anonymously), and blobs are redirected to
//! another host (a CDN), which must never see the registry's credentials. Loopback only: the
//! registry is a small HTTP server in this test; box first tries HTTPS (it is insecure only
//! because it is local), then falls back to plain HTTP.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine;
use box_image::progress::Quiet;
use box_image::{Digest, Mirror, PullOptions, Reference, RegistryOptions, Store};

/// Requests the servers saw: (server, path, Authorization header).
type Log = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn serve(
    name: &'static str,
    log: Log,
    handler: impl Fn(&str, Option<&str>) -> Response + Send + Sync + 'static,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (log, handler) = (log.clone(), handler.clone());
            std::thread::spawn(move || answer(name, stream, &log, &*handler));
        }
    });
    port
}

/// One request on `stream`: anything but a GET (a TLS hello: box tries HTTPS first) gets a
/// 400, as a plain-HTTP server answers it.
fn answer(
    name: &str,
    mut stream: std::net::TcpStream,
    log: &Log,
    handler: &(dyn Fn(&str, Option<&str>) -> Response + Send + Sync),
) {
    let mut start = [0u8; 4];
    if stream.read_exact(&mut start).is_err() || &start != b"GET " {
        let _ = stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        );
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first.split_whitespace().next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.insert(k.to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let auth = headers.get("authorization").cloned();
    log.lock()
        .unwrap()
        .push((name.to_string(), path.clone(), auth.clone()));
    let r = handler(&path, auth.as_deref());
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        r.body.len()
    );
    for (k, v) in r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&r.body);
}

fn ok(body: Vec<u8>, content_type: &str) -> Response {
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    }
}

struct Fake {
    port: u16,
    log: Log,
    layer: Digest,
}

/// A registry whose repository `app` has tag `1`, demanding tokens issued for `expected`
/// credentials (`None`: anonymous tokens).
fn fake_registry(expected: Option<&'static str>) -> Fake {
    fake_registry_of("app", expected)
}

/// [`fake_registry`] with the repository `repo`.
fn fake_registry_of(repo: &'static str, expected: Option<&'static str>) -> Fake {
    let log: Log = Arc::default();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "hello", &b"world"[..]).unwrap();
    let layer = tar.into_inner().unwrap();
    let layer_digest = Digest::of(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": box_image::Platform::host().architecture, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]},
    }))
    .unwrap();
    let config_digest = Digest::of(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": layer_digest.to_string(), "size": layer.len()}],
    }))
    .unwrap();
    let cdn_layer = layer.clone();
    let cdn = serve("cdn", log.clone(), move |_, _| {
        ok(cdn_layer.clone(), "application/octet-stream")
    });
    let port_cell = Arc::new(Mutex::new(0u16));
    let port_for_handler = port_cell.clone();
    let token = match expected {
        Some(creds) => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(creds)
        ),
        None => String::new(),
    };
    let layer_for_handler = layer_digest.clone();
    let port = serve("registry", log.clone(), move |path, auth| {
        let layer_digest = &layer_for_handler;
        let me = *port_for_handler.lock().unwrap();
        let challenge = Response {
            status: 401,
            headers: vec![(
                "WWW-Authenticate".into(),
                format!(r#"Bearer realm="http://127.0.0.1:{me}/token",service="fake.registry""#),
            )],
            body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                .to_vec(),
        };
        if path.starts_with("/token?") {
            let creds_ok = if token.is_empty() {
                auth.is_none()
            } else {
                auth == Some(token.as_str())
            };
            let scope = format!("repository:{repo}:pull");
            let encoded = scope.replace(':', "%3A").replace('/', "%2F");
            let scoped = path.contains(&format!("scope={scope}"))
                || path.contains(&format!("scope={encoded}"));
            return match creds_ok && scoped && path.contains("service=fake.registry") {
                true => ok(br#"{"token":"T0KEN"}"#.to_vec(), "application/json"),
                false => Response {
                    status: 401,
                    headers: vec![],
                    body: vec![],
                },
            };
        }
        if auth != Some("Bearer T0KEN") {
            return challenge;
        }
        match path {
            "/v2/" => ok(b"{}".to_vec(), "application/json"),
            p if p == format!("/v2/{repo}/manifests/1") => ok(
                manifest.clone(),
                "application/vnd.docker.distribution.manifest.v2+json",
            ),
            p if p == format!("/v2/{repo}/blobs/{config_digest}") => {
                ok(config.clone(), "application/octet-stream")
            }
            p if p == format!("/v2/{repo}/blobs/{layer_digest}") => Response {
                status: 307,
                headers: vec![(
                    "Location".into(),
                    format!("http://127.0.0.1:{cdn}/blob?signed=1"),
                )],
                body: vec![],
            },
            _ => Response {
                status: 404,
                headers: vec![],
                body: br#"{"errors":[{"code":"NOT_FOUND","message":"no"}]}"#.to_vec(),
            },
        }
    });
    *port_cell.lock().unwrap() = port;
    Fake {
        port,
        log,
        layer: layer_digest,
    }
}

fn pull(fake: &Fake, auth_file: &std::path::Path) -> box_image::Result<box_image::Pulled> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let reference = Reference::parse(&format!("127.0.0.1:{}/app:1", fake.port)).unwrap();
    let opts = PullOptions {
        registry: RegistryOptions {
            insecure: vec![],
            auth_file: Some(auth_file.into()),
            ..RegistryOptions::default()
        },
        ..PullOptions::default()
    };
    let pulled = store.pull(&reference, &opts, &Quiet)?;
    let image = store.image(&reference.to_string())?;
    assert_eq!(
        std::fs::read(image.layers[0].join("hello")).unwrap(),
        b"world"
    );
    Ok(pulled)
}

#[test]
fn credentials_go_to_the_token_service_and_never_to_the_cdn() {
    let fake = fake_registry(Some("alice:s3cret"));
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"{b64}"}}}}}}"#,
            fake.port
        ),
    )
    .unwrap();
    pull(&fake, &auth).unwrap();
    let log = fake.log.lock().unwrap();
    let token_requests: Vec<_> = log
        .iter()
        .filter(|(_, p, _)| p.starts_with("/token"))
        .collect();
    assert!(!token_requests.is_empty());
    let cdn: Vec<_> = log.iter().filter(|(s, _, _)| s == "cdn").collect();
    assert_eq!(cdn.len(), 1, "the layer came from the CDN: {log:?}");
    assert_eq!(cdn[0].2, None, "the CDN saw an Authorization header");
    assert!(
        log.iter()
            .filter(|(s, p, _)| s == "registry" && !p.starts_with("/token"))
            .all(|(_, _, a)| a.as_deref() != Some("Basic YWxpY2U6czNjcmV0")),
        "the password went to the registry itself, not only to its token service"
    );
    let _ = fake.layer;
}

#[test]
fn anonymous_tokens_as_docker_hub_gives_them() {
    let fake = fake_registry(None);
    let dir = tempfile::tempdir().unwrap();
    pull(&fake, &dir.path().join("no-such-file.json")).unwrap();
    let log = fake.log.lock().unwrap();
    assert!(log
        .iter()
        .any(|(_, p, a)| p.starts_with("/token") && a.is_none()));
}

#[test]
fn wrong_credentials_are_an_error_that_names_the_step() {
    let fake = fake_registry(Some("alice:s3cret"));
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"127.0.0.1:{}":{{"username":"alice","password":"wrong"}}}}}}"#,
            fake.port
        ),
    )
    .unwrap();
    let err = pull(&fake, &auth).unwrap_err().to_string();
    assert!(
        err.contains("token from http://127.0.0.1") && err.contains("401"),
        "{err}"
    );
}

/// A Docker Hub image through a mirror: the mirror gets the credentials of its own host,
/// never Docker Hub's, and the image is recorded under its Docker Hub name.
#[test]
fn a_mirror_gets_its_own_credentials_never_docker_hubs() {
    let fake = fake_registry_of("library/app", Some("bob:mirr0r"));
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (hub, mirror) = (b64("alice:hub-s3cret"), b64("bob:mirr0r"));
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{hub}"}},"127.0.0.1:{}":{{"auth":"{mirror}"}}}}}}"#,
            fake.port
        ),
    )
    .unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let reference = Reference::parse("app:1").unwrap();
    let opts = PullOptions {
        registry: RegistryOptions {
            auth_file: Some(auth),
            mirrors: vec![Mirror::parse(&format!("http://127.0.0.1:{}", fake.port)).unwrap()],
            ..RegistryOptions::default()
        },
        ..PullOptions::default()
    };
    let pulled = store.pull(&reference, &opts, &Quiet).unwrap();
    assert_eq!(pulled.reference.to_string(), "docker.io/library/app:1");
    let log = fake.log.lock().unwrap();
    assert!(log.iter().any(|(_, p, a)| p.starts_with("/token")
        && a.as_deref() == Some(format!("Basic {mirror}").as_str())));
    assert!(
        log.iter()
            .all(|(_, _, a)| !a.as_deref().unwrap_or("").contains(&hub)),
        "Docker Hub's credentials went to the mirror: {log:?}"
    );
}
