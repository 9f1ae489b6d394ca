//! A private registry for the image tests: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1, on a free port, with its own storage in a temporary directory;
//! stopped (the process this started, by its pid) and removed on drop. Images are pushed to
//! it with the distribution API's monolithic upload.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::oci::{sha256, Image};

pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    agent: ureq::Agent,
}

impl Registry {
    /// Starts a registry and waits until it answers `GET /v2/`.
    pub fn start() -> Registry {
        crate::require_root();
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "docker-registry is missing: `cargo xtask test` installs Debian's docker-registry",
            );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("boxregistry-")
                .tempdir()
                .expect("a registry directory");
            let port = free_port();
            let config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            );
            std::fs::write(dir.path().join("config.yml"), config)
                .expect("write the registry's configuration");
            let child = Command::new(bin)
                .arg("serve")
                .arg(dir.path().join("config.yml"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start docker-registry");
            let mut registry = Registry {
                child,
                port,
                dir,
                agent: agent.clone(),
            };
            if registry.wait_ready() {
                return registry;
            }
            // Another process took the port meanwhile: try another.
        }
        panic!("docker-registry did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                eprintln!("docker-registry exited: {err}");
                return false;
            }
            if self
                .agent
                .get(format!("{}/v2/", self.url()))
                .call()
                .is_ok_and(|r| r.status() == 200)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `localhost:PORT`, the registry as references name it.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the registry keeps a blob: tests corrupt it there.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.path().join(format!(
            "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ))
    }

    /// Uploads a blob (unless the repository has it).
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let head = self
            .agent
            .head(format!("{}/v2/{repo}/blobs/{digest}", self.url()))
            .call()
            .expect("HEAD blob");
        if head.status() == 200 {
            return digest;
        }
        let start = self
            .agent
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.url()))
            .send_empty()
            .expect("start upload");
        assert_eq!(start.status(), 202, "start upload of {digest}");
        let location = start
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("upload location")
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.url())
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let done = self
            .agent
            .put(format!("{location}{sep}digest={digest}"))
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .expect("upload blob");
        assert_eq!(done.status(), 201, "upload of {digest}");
        digest
    }

    /// Uploads a manifest (or index) under `reference` (a tag or digest); returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let resp = self
            .agent
            .put(format!("{}/v2/{repo}/manifests/{reference}", self.url()))
            .header("Content-Type", media_type)
            .send(bytes)
            .expect("upload manifest");
        assert_eq!(resp.status(), 201, "upload of manifest {repo}:{reference}");
        sha256(bytes)
    }

    /// Pushes an image's blobs and manifest as `repo:tag`; returns the manifest's digest.
    pub fn push(&self, repo: &str, tag: &str, image: &Image) -> String {
        for blob in image.blobs() {
            self.push_blob(repo, blob);
        }
        self.push_manifest(repo, tag, image.media_type, &image.manifest)
    }

    /// Pushes each image by digest and an index of them (OCI, or a Docker manifest list) as
    /// `repo:tag`; returns the index's digest.
    pub fn push_index(
        &self,
        repo: &str,
        tag: &str,
        images: &[(&Image, &str)],
        docker: bool,
    ) -> String {
        let mut entries = Vec::new();
        for (image, platform) in images {
            let digest = self.push(repo, &sha256(&image.manifest), image);
            let mut parts = platform.split('/');
            let mut p = serde_json::json!({"os": parts.next().unwrap(), "architecture": parts.next().unwrap()});
            if let Some(v) = parts.next() {
                p["variant"] = v.into();
            }
            entries.push(serde_json::json!({
                "mediaType": image.media_type, "digest": digest, "size": image.manifest.len(), "platform": p,
            }));
        }
        let media_type = if docker {
            "application/vnd.docker.distribution.manifest.list.v2+json"
        } else {
            "application/vnd.oci.image.index.v1+json"
        };
        let index = serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}),
        )
        .unwrap();
        self.push_manifest(repo, tag, media_type, &index)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}
