//! An OCI bundle's `config.json` → box's [`box_launcher::Spec`], the same typed spec box.toml
//! produces. Every field is either mapped onto a layer's config or refused by name: nothing is
//! dropped silently (`docs/oci.md` lists each field).

mod linux;
mod mounts;
mod process;
mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Hook, Spec as OciSpec};

use box_launcher::hooks::ContainerHook;
use box_launcher::{Spec, Tunables};

pub use process::{process, ProcessParts};
pub use resources::resources;

/// A field of config.json box cannot honour or that is invalid, named by its JSON path.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("read {path}: {why}")]
    Read { path: PathBuf, why: String },
    #[error("{path}: {why}")]
    Parse { path: PathBuf, why: String },
    #[error("config.json: {field}: not supported by box: {why}")]
    Unsupported { field: String, why: String },
    #[error("config.json: {field}: {why}")]
    Invalid { field: String, why: String },
}

pub(crate) fn unsupported(field: &str, why: impl Into<String>) -> ConvertError {
    ConvertError::Unsupported {
        field: field.into(),
        why: why.into(),
    }
}

pub(crate) fn invalid(field: &str, why: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// A bundle's config, typed (`oci-spec`) and as raw JSON (the seccomp profile goes to the
/// security layer's own parser in its original form).
pub struct Bundle {
    /// Absolute path of the bundle directory.
    pub dir: PathBuf,
    pub config: OciSpec,
    pub raw: serde_json::Value,
}

impl Bundle {
    /// Reads `DIR/config.json`.
    pub fn load(dir: &Path) -> Result<Bundle, ConvertError> {
        let dir = std::path::absolute(dir).map_err(|e| ConvertError::Read {
            path: dir.to_path_buf(),
            why: e.to_string(),
        })?;
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ConvertError::Read {
            path: path.clone(),
            why: e.to_string(),
        })?;
        Bundle::parse(dir, &text).map_err(|why| ConvertError::Parse { path, why })
    }

    /// Parses config.json's text, for a bundle at `dir`.
    pub fn parse(dir: PathBuf, text: &str) -> Result<Bundle, String> {
        let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let config: OciSpec = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
        Ok(Bundle { dir, config, raw })
    }
}

/// Hooks by the moment they run, as config.json lists them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hooks {
    /// Deprecated by the spec, run with `create_runtime`, first.
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    /// Run by `start` in the container's namespaces and cgroup, before its process runs.
    #[serde(default)]
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

/// What a bundle asks for, in box's terms.
#[derive(Debug, Clone)]
pub struct Container {
    pub spec: Spec,
    pub hooks: Hooks,
    /// Passed through to `state`; box acts on none of them.
    pub annotations: BTreeMap<String, String>,
}

/// Converts the bundle for the container `id`.
pub fn convert(bundle: &Bundle, id: &str) -> Result<Container, ConvertError> {
    let c = &bundle.config;
    refuse_other_platforms(bundle)?;
    let oci_process = c
        .process()
        .as_ref()
        .ok_or_else(|| invalid("process", "missing: box runs a process"))?;
    let root = c
        .root()
        .as_ref()
        .ok_or_else(|| invalid("root", "missing: box needs a root filesystem"))?;
    let linux = c
        .linux()
        .as_ref()
        .ok_or_else(|| invalid("linux", "missing: box runs Linux containers"))?;
    let parts = process(oci_process, "process")?;
    let mut security = parts.security;
    security.seccomp = linux::seccomp(bundle)?;
    let namespaces = linux::namespaces(linux)?;
    let user_maps = linux::user_maps(linux, &namespaces)?;
    let rootfs = mounts::rootfs(bundle, root, linux)?;
    let cgroup = linux::cgroup(linux, id)?;
    linux::refuse_unhandled(linux)?;
    let tunables = Tunables {
        domainname: c.domainname().clone().filter(|d| !d.is_empty()),
        sysctls: linux
            .sysctl()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        oom_score_adj: parts.oom_score_adj,
        umask: parts.umask,
        // A command-line flag, not the bundle's: set by `create`.
        preserve_fds: 0,
        // Run by the container's init (box_launcher::hooks); the state is filled in by `create`.
        create_container: box_launcher::hooks::CreateContainerHooks {
            hooks: create_container_hooks(c),
            state: String::new(),
        },
    };
    let network = linux::network(&namespaces);
    let spec = Spec {
        name: id.to_string(),
        process: parts.process,
        hostname: c.hostname().clone().filter(|h| !h.is_empty()),
        namespaces,
        user_maps,
        rootfs,
        cgroup: Some(cgroup),
        security,
        security_host: None,
        network,
        tunables,
        timings: false,
    };
    Ok(Container {
        spec,
        hooks: hooks(c)?,
        annotations: c
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    })
}

fn refuse_other_platforms(bundle: &Bundle) -> Result<(), ConvertError> {
    for key in ["solaris", "windows", "vm", "zos"] {
        if bundle.raw.get(key).is_some_and(|v| !v.is_null()) {
            return Err(unsupported(key, "box runs Linux containers only"));
        }
    }
    Ok(())
}

fn create_container_hooks(c: &OciSpec) -> Vec<ContainerHook> {
    let list = c
        .hooks()
        .as_ref()
        .and_then(|h| h.create_container().clone());
    list.unwrap_or_default()
        .into_iter()
        .map(|h| ContainerHook {
            path: h.path().clone(),
            args: h.args().clone().unwrap_or_default(),
            env: h.env().clone().unwrap_or_default(),
            timeout: h.timeout().and_then(|t| u64::try_from(t).ok()),
        })
        .collect()
}

fn hooks(c: &OciSpec) -> Result<Hooks, ConvertError> {
    let Some(h) = c.hooks() else {
        return Ok(Hooks::default());
    };
    let list = |l: &Option<Vec<Hook>>| l.clone().unwrap_or_default();
    Ok(Hooks {
        prestart: list(h.prestart()),
        create_runtime: list(h.create_runtime()),
        start_container: list(h.start_container()),
        poststart: list(h.poststart()),
        poststop: list(h.poststop()),
    })
}

#[cfg(test)]
mod tests;
