//! What a container on an image runs: the image's configuration, with what the container's
//! own definition (box.toml) sets taking precedence, by Docker's rules:
//!
//! - an **entrypoint** given by the container replaces the image's, and then the image's Cmd
//!   is dropped (`docker run --entrypoint`); an empty one means no entrypoint;
//! - a **command** (Cmd) given by the container replaces the image's Cmd and keeps the
//!   entrypoint (`docker run IMAGE ARGS…`, compose's `command`);
//! - the process runs `entrypoint ++ cmd`; nothing at all is an error;
//! - **env**: the image's entries, each replaced by the container's entry of the same name,
//!   then the container's new names; `PATH` defaults to Docker's when neither sets it
//!   (`HOME` is added once the user is known: [`crate::user::Identity::home`]);
//! - **workdir**, **user**, **stop signal**: the container's, else the image's, else `/`,
//!   root, `SIGTERM`.

use crate::config::ImageConfig;

/// Docker's default `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the container's definition sets; `None` keeps the image's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub stop_signal: Option<String>,
}

/// The process a container on the image runs, before its user is resolved in the image's
/// `/etc/passwd` ([`crate::user::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPlan {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub workdir: String,
    /// The user spec (`name`, `uid:gid`…); `None` is root.
    pub user: Option<String>,
    /// The signal `box stop` sends first.
    pub stop_signal: i32,
}

/// Why the image and the container's definition give no runnable process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no command: the image has no Entrypoint or Cmd, and none is given")]
    NoCommand,
    #[error("working directory {0:?} is not an absolute path")]
    RelativeWorkdir(String),
    #[error("invalid stop signal {0:?}")]
    StopSignal(String),
    #[error("invalid environment entry {0:?}: expected KEY=value")]
    Env(String),
}

/// Applies Docker's precedence (see the module's documentation).
pub fn plan(image: &ImageConfig, over: &Overrides) -> Result<ProcessPlan, PlanError> {
    let (entrypoint, cmd) = match &over.entrypoint {
        Some(entrypoint) => (entrypoint.clone(), over.cmd.clone().unwrap_or_default()),
        None => (
            image.entrypoint.clone().unwrap_or_default(),
            over.cmd
                .clone()
                .or_else(|| image.cmd.clone())
                .unwrap_or_default(),
        ),
    };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(PlanError::NoCommand);
    }
    let workdir = match (&over.workdir, &image.working_dir) {
        (Some(w), _) if !w.starts_with('/') => return Err(PlanError::RelativeWorkdir(w.clone())),
        (Some(w), _) => w.clone(),
        // Docker joins an image's relative WORKDIR to `/`.
        (None, Some(w)) if !w.starts_with('/') => format!("/{w}"),
        (None, Some(w)) => w.clone(),
        (None, None) => "/".to_string(),
    };
    let signal_text = over
        .stop_signal
        .as_deref()
        .or(image.stop_signal.as_deref())
        .unwrap_or("SIGTERM");
    let stop_signal =
        parse_signal(signal_text).ok_or_else(|| PlanError::StopSignal(signal_text.into()))?;
    Ok(ProcessPlan {
        args,
        env: merge_env(&image.env, &over.env)?,
        workdir,
        user: over.user.clone().or_else(|| image.user.clone()),
        stop_signal,
    })
}

/// The image's entries with the container's replacing those of the same name, in the image's
/// order, then the container's new names; `PATH` added when neither has it.
pub fn merge_env(image: &[String], over: &[String]) -> Result<Vec<String>, PlanError> {
    let key = |entry: &str| -> Result<String, PlanError> {
        match entry.split_once('=') {
            Some((k, _)) if !k.is_empty() => Ok(k.to_string()),
            _ => Err(PlanError::Env(entry.to_string())),
        }
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for entry in image.iter().chain(over) {
        let k = key(entry)?;
        match env.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = entry.clone(),
            None => env.push((k, entry.clone())),
        }
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), format!("PATH={DEFAULT_PATH}")));
    }
    Ok(env.into_iter().map(|(_, e)| e).collect())
}

/// A signal as images write it: `SIGQUIT`, `QUIT`, `3`, `SIGRTMIN+3`, `RTMAX-1`.
pub fn parse_signal(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (1..=libc::SIGRTMAX()).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let realtime = |base: i32, rest: &str| -> Option<i32> {
        let n = match rest {
            "" => base,
            r if r.starts_with('+') && base == libc::SIGRTMIN() => {
                base + r[1..].parse::<i32>().ok()?
            }
            r if r.starts_with('-') && base == libc::SIGRTMAX() => {
                base - r[1..].parse::<i32>().ok()?
            }
            _ => return None,
        };
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&n)
            .then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return realtime(libc::SIGRTMIN(), rest);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return realtime(libc::SIGRTMAX(), rest);
    }
    name.parse::<nix::sys::signal::Signal>()
        .or_else(|_| format!("SIG{name}").parse::<nix::sys::signal::Signal>())
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn image() -> ImageConfig {
        ImageConfig {
            entrypoint: Some(v(&["/entry.sh"])),
            cmd: Some(v(&["nginx", "-g", "daemon off;"])),
            env: v(&["PATH=/img/bin", "A=image", "B=image"]),
            working_dir: Some("/srv".into()),
            user: Some("nginx".into()),
            stop_signal: Some("SIGQUIT".into()),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn the_image_alone() {
        let p = plan(&image(), &Overrides::default()).unwrap();
        assert_eq!(p.args, v(&["/entry.sh", "nginx", "-g", "daemon off;"]));
        assert_eq!(p.env, v(&["PATH=/img/bin", "A=image", "B=image"]));
        assert_eq!(p.workdir, "/srv");
        assert_eq!(p.user.as_deref(), Some("nginx"));
        assert_eq!(p.stop_signal, libc::SIGQUIT);
    }

    #[test]
    fn a_command_replaces_cmd_and_keeps_the_entrypoint() {
        let over = Overrides {
            cmd: Some(v(&["sh"])),
            ..Overrides::default()
        };
        assert_eq!(plan(&image(), &over).unwrap().args, v(&["/entry.sh", "sh"]));
    }

    #[test]
    fn an_entrypoint_drops_the_image_cmd() {
        let over = Overrides {
            entrypoint: Some(v(&["/bin/true"])),
            ..Overrides::default()
        };
        assert_eq!(plan(&image(), &over).unwrap().args, v(&["/bin/true"]));
        let over = Overrides {
            entrypoint: Some(vec![]),
            cmd: Some(v(&["/bin/sh", "-c", "x"])),
            ..Overrides::default()
        };
        assert_eq!(
            plan(&image(), &over).unwrap().args,
            v(&["/bin/sh", "-c", "x"])
        );
        let over = Overrides {
            entrypoint: Some(vec![]),
            ..Overrides::default()
        };
        assert_eq!(plan(&image(), &over), Err(PlanError::NoCommand));
        assert_eq!(
            plan(&ImageConfig::default(), &Overrides::default()),
            Err(PlanError::NoCommand)
        );
    }

    #[test]
    fn env_merges_by_name_and_path_has_a_default() {
        let over = Overrides {
            env: v(&["B=box", "C=box", "A=box=with=equals"]),
            ..Overrides::default()
        };
        assert_eq!(
            plan(&image(), &over).unwrap().env,
            v(&["PATH=/img/bin", "A=box=with=equals", "B=box", "C=box"])
        );
        let bare = ImageConfig {
            cmd: Some(v(&["x"])),
            ..ImageConfig::default()
        };
        assert_eq!(
            plan(&bare, &Overrides::default()).unwrap().env,
            vec![format!("PATH={DEFAULT_PATH}")]
        );
        let bad = Overrides {
            env: v(&["=x"]),
            ..Overrides::default()
        };
        assert_eq!(plan(&bare, &bad), Err(PlanError::Env("=x".into())));
    }

    #[test]
    fn workdir_user_and_signal_fall_back_in_order() {
        let over = Overrides {
            workdir: Some("/app".into()),
            user: Some("0:0".into()),
            stop_signal: Some("9".into()),
            ..Overrides::default()
        };
        let p = plan(&image(), &over).unwrap();
        assert_eq!(
            (p.workdir.as_str(), p.user.as_deref(), p.stop_signal),
            ("/app", Some("0:0"), 9)
        );
        let bare = ImageConfig {
            cmd: Some(v(&["x"])),
            working_dir: Some("rel".into()),
            ..ImageConfig::default()
        };
        let p = plan(&bare, &Overrides::default()).unwrap();
        assert_eq!(
            (p.workdir.as_str(), p.user, p.stop_signal),
            ("/rel", None, libc::SIGTERM)
        );
        let rel = Overrides {
            workdir: Some("x".into()),
            ..Overrides::default()
        };
        assert_eq!(
            plan(&bare, &rel),
            Err(PlanError::RelativeWorkdir("x".into()))
        );
    }

    #[test]
    fn signals_in_every_spelling() {
        assert_eq!(parse_signal("SIGTERM"), Some(libc::SIGTERM));
        assert_eq!(parse_signal("term"), Some(libc::SIGTERM));
        assert_eq!(parse_signal("SIGWINCH"), Some(libc::SIGWINCH));
        assert_eq!(parse_signal("15"), Some(15));
        assert_eq!(parse_signal("SIGRTMIN+3"), Some(libc::SIGRTMIN() + 3));
        assert_eq!(parse_signal("RTMAX-1"), Some(libc::SIGRTMAX() - 1));
        assert_eq!(parse_signal("SIGRTMIN"), Some(libc::SIGRTMIN()));
        for bad in ["", "0", "65", "SIGNOPE", "RTMIN+99", "RTMIN-1", "SIG"] {
            assert_eq!(parse_signal(bad), None, "{bad}");
        }
    }
}
