//! `image = "busybox"`: a container on an image of the store. The image's configuration gives
//! the process (Entrypoint, Cmd, Env, WorkingDir, User) unless box.toml sets it, with Docker's
//! precedence (`box_image::process`); its layers become the lower directories of an overlay
//! root, with the container's own upper directory in its state directory.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use box_image::process::{Overrides, PlanError, ProcessPlan};
use box_image::user::Identity;
use box_image::Image;
use box_rootfs::{Overlay, Root};
use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};

use super::to_spec::Ctx;
use super::ConfigError;

/// An image resolved for a container: the image, what its record will name, and the store's
/// `gc.lock` held shared until that record is written (so that no `rmi` takes it meanwhile).
#[derive(Clone)]
pub struct Resolved {
    pub image: Image,
    pub used: UsedImage,
    pub hold: Option<Arc<Flock<File>>>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("used", &self.used)
            .finish()
    }
}

/// What a container's record says of its image (the top-level `image` key of `state.json`,
/// read by `box rmi` and `box prune`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedImage {
    /// The image as the user named it (box.toml's `image`, `box run IMAGE`), as `docker ps`
    /// shows it; records older than it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    /// The name it was started by, normalized (`docker.io/library/busybox:latest`); none
    /// when it was started by ID.
    pub reference: Option<String>,
    /// The manifest's digest: the image, exactly.
    pub manifest: String,
    /// The image's StopSignal (a number), which `box stop` and `box down` send first; none
    /// for SIGTERM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<i32>,
}

/// Resolves an image reference to an image of the store (pulling it when missing, for
/// `box up`); an `Err` is the message for the `image` key.
pub type Images<'a> = &'a dyn Fn(&str) -> Result<Resolved, String>;

/// A container on an image: the process, user and root its file and the image give.
pub struct OnImage {
    pub plan: ProcessPlan,
    pub identity: Identity,
    pub root: Root,
    pub resolved: Resolved,
}

/// `image`, with `rootfs`, `entrypoint`, `command`, `env`, `workdir` and `user` applied over the
/// image's configuration. `state_dir` is the container's state directory, where its overlay's
/// upper and work directories go.
pub fn on_image(
    c: &Ctx<'_>,
    reference: &str,
    images: Images<'_>,
    state_dir: PathBuf,
) -> Result<OnImage, ConfigError> {
    let f = c.file;
    if f.rootfs.is_some() {
        return Err(c.err(
            &["image"],
            "a container runs on an image or on a rootfs, not both: drop one of the two keys",
        ));
    }
    let resolved = images(reference).map_err(|m| c.err(&["image"], m))?;
    let over = Overrides {
        entrypoint: f.entrypoint.clone(),
        cmd: f.command.clone(),
        env: f.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        workdir: f.workdir.clone(),
        user: f.user.clone(),
        stop_signal: None,
    };
    let plan = resolved.image.plan(&over).map_err(|e| {
        let key = match e {
            PlanError::NoCommand => "command",
            PlanError::RelativeWorkdir(_) => "workdir",
            PlanError::StopSignal(_) => "image",
            PlanError::Env(_) => "env",
        };
        c.err(&[key], format!("{e} (image {reference})"))
    })?;
    let mut resolved = resolved;
    resolved.used.stop_signal = (plan.stop_signal != libc::SIGTERM).then_some(plan.stop_signal);
    let identity = resolved.image.identity(plan.user.as_deref()).map_err(|e| {
        c.err(
            &[if f.user.is_some() { "user" } else { "image" }],
            e.to_string(),
        )
    })?;
    let root = Root::Overlay(Overlay {
        layers: resolved.image.layers.clone(),
        dir: state_dir.join("overlay"),
    });
    Ok(OnImage {
        plan,
        identity,
        root,
        resolved,
    })
}
