//! The image configuration box uses: what a container on the image runs by default
//! (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal) and what its layers must unpack to
//! (the diff IDs). Parsed with `oci-spec`'s types, which read Docker's configuration too (the
//! same JSON shape), then kept as plain data of box's own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// The largest configuration box reads (Docker's and containerd's limits are of this order;
/// a real one is a few KiB).
pub const CONFIG_MAX: u64 = 8 << 20;

/// An image's configuration, as far as running it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// `ENTRYPOINT`: `None` when the image sets none.
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`: the default arguments (the default command without an entrypoint).
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    /// `WORKDIR`, when set.
    pub working_dir: Option<String>,
    /// `USER`: `name`, `uid`, `name:group`, `uid:gid`…, when set.
    pub user: Option<String>,
    /// `STOPSIGNAL`, when set: `SIGQUIT`, `9`, `SIGRTMIN+3`.
    pub stop_signal: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    /// When the image was built (RFC 3339), when it says.
    pub created: Option<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// The sha256 of each layer's uncompressed tar, bottom layer first.
    pub diff_ids: Vec<Digest>,
}

/// Why a configuration blob is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("image configuration is not valid JSON of the OCI/Docker shape: {0}")]
    Parse(String),
    #[error("image configuration: rootfs.type is {0:?}, not \"layers\"")]
    RootfsType(String),
    #[error("image configuration: diff ID {0:?}: {1}")]
    DiffId(String, String),
}

impl ImageConfig {
    /// Parses a configuration blob (OCI `application/vnd.oci.image.config.v1+json` or Docker's
    /// `application/vnd.docker.container.image.v1+json`).
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, ConfigError> {
        let oci: oci_spec::image::ImageConfiguration =
            serde_json::from_slice(bytes).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let rootfs = oci.rootfs();
        if rootfs.typ() != "layers" {
            return Err(ConfigError::RootfsType(rootfs.typ().clone()));
        }
        let diff_ids = rootfs
            .diff_ids()
            .iter()
            .map(|d| Digest::parse(d).map_err(|e| ConfigError::DiffId(d.clone(), e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = ImageConfig {
            created: oci.created().clone(),
            os: oci.os().to_string(),
            architecture: oci.architecture().to_string(),
            variant: oci.variant().clone(),
            diff_ids,
            ..ImageConfig::default()
        };
        if let Some(c) = oci.config() {
            let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
            config.entrypoint = c.entrypoint().clone();
            config.cmd = c.cmd().clone();
            config.env = c.env().clone().unwrap_or_default();
            config.working_dir = nonempty(c.working_dir());
            config.user = nonempty(c.user());
            config.stop_signal = nonempty(c.stop_signal());
            config.labels = c.labels().clone().unwrap_or_default().into_iter().collect();
            config.exposed_ports = sorted(c.exposed_ports().clone());
            config.volumes = sorted(c.volumes().clone());
        }
        Ok(config)
    }

    /// `os/architecture[/variant]`.
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

fn sorted(list: Option<Vec<String>>) -> Vec<String> {
    let mut list = list.unwrap_or_default();
    list.sort();
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn docker_configuration_is_read() {
        // The shape `docker inspect` shows, with the nulls Docker writes.
        let text = format!(
            r#"{{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z",
            "config":{{"Hostname":"","User":"nginx:nginx","Env":["PATH=/usr/bin","A=b"],
            "Cmd":["nginx","-g","daemon off;"],"Entrypoint":["/docker-entrypoint.sh"],
            "WorkingDir":"/srv","StopSignal":"SIGQUIT","Labels":null,"Volumes":null,
            "ExposedPorts":{{"80/tcp":{{}}}},"OnBuild":null}},
            "container_config":{{"Cmd":["ignored"]}},"docker_version":"24",
            "rootfs":{{"type":"layers","diff_ids":["{DIFF}"]}},"history":[]}}"#
        );
        let c = ImageConfig::parse(text.as_bytes()).unwrap();
        assert_eq!(c.entrypoint, Some(vec!["/docker-entrypoint.sh".into()]));
        assert_eq!(c.cmd.as_ref().unwrap()[2], "daemon off;");
        assert_eq!(c.env, vec!["PATH=/usr/bin", "A=b"]);
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert_eq!(c.user.as_deref(), Some("nginx:nginx"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(c.exposed_ports, vec!["80/tcp"]);
        assert_eq!(c.created.as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(c.platform(), "linux/amd64");
        assert_eq!(c.diff_ids, vec![Digest::parse(DIFF).unwrap()]);
    }

    #[test]
    fn a_minimal_configuration_has_no_defaults_of_its_own() {
        let text = r#"{"architecture":"arm","variant":"v7","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c = ImageConfig::parse(text.as_bytes()).unwrap();
        assert_eq!(c.entrypoint, None);
        assert_eq!(c.cmd, None);
        assert_eq!(c.user, None);
        assert_eq!(c.platform(), "linux/arm/v7");
    }

    #[test]
    fn bad_configurations_are_refused() {
        let bad = |text: &str| ImageConfig::parse(text.as_bytes()).unwrap_err();
        assert!(matches!(bad("[]"), ConfigError::Parse(_)));
        assert!(matches!(
            bad(r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"x","diff_ids":[]}}"#),
            ConfigError::RootfsType(_)
        ));
        assert!(matches!(
            bad(
                r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:../x"]}}"#
            ),
            ConfigError::DiffId(..)
        ));
    }
}
