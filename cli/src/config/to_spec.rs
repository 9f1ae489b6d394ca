//! One container of a box.toml → `launcher::Spec`, checking every value on the way; each
//! error names its full key (`containers.web.resources.memory` in a several-container file).

use std::path::PathBuf;

use box_launcher::{CgroupSpec, Process, Spec, UserMaps, DEFAULT_PATH};
use box_ns::{IdMap, Kind, Mode, NsConfig};
use box_security::UserSpec;

use super::schema::{Container, Namespaces};
use super::{ConfigError, Def, Loaded, Seg};

/// Resolves `container:NAME` in `[namespaces]` to the namespace file to join, for one kind;
/// an `Err` is the message for the key.
pub type Resolve<'a> = &'a dyn Fn(&str, Kind) -> Result<PathBuf, String>;

/// One container being converted: its keys, and where they are in the file.
pub struct Ctx<'a> {
    pub loaded: &'a Loaded,
    pub file: &'a Container,
    prefix: &'a [Seg],
}

impl<'a> Ctx<'a> {
    pub fn new(loaded: &'a Loaded, def: &'a Def) -> Ctx<'a> {
        Ctx {
            loaded,
            file: &def.body,
            prefix: &def.prefix,
        }
    }

    /// The full key path of `path` inside this container.
    pub fn full(&self, path: &[Seg]) -> Vec<Seg> {
        [self.prefix, path].concat()
    }

    /// An error about the key at `path`, relative to this container's table.
    pub fn error_at(&self, path: &[Seg], message: impl Into<String>) -> ConfigError {
        self.loaded.error_at(&self.full(path), message)
    }

    /// [`Ctx::error_at`] for a path of plain keys.
    pub fn err(&self, path: &[&str], message: impl Into<String>) -> ConfigError {
        self.error_at(&key(path), message)
    }
}

pub fn key(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// Builds one container's `Spec`. `name` overrides the file's `name` key (the table key of
/// a `[containers.NAME]` table, checked by the caller).
pub fn to_spec(c: &Ctx<'_>, name: Option<&str>, resolve: Resolve<'_>) -> Result<Spec, ConfigError> {
    let f = c.file;
    if f.command.is_empty() || f.command[0].is_empty() {
        return Err(c.err(&["command"], "must name a program to run"));
    }
    let name = match name.or(f.name.as_deref()) {
        Some(n) => check_name(n).map_err(|m| c.err(&["name"], m))?.to_string(),
        None => format!("box-{}", std::process::id()),
    };
    let mut env: Vec<String> = f.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !f.env.contains_key("PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !f.env.contains_key("HOSTNAME") {
        if let Some(h) = &f.hostname {
            env.push(format!("HOSTNAME={h}"));
        }
    }
    if f.tty && !f.env.contains_key("TERM") {
        env.push("TERM=xterm".to_string());
    }
    let cwd = PathBuf::from(f.workdir.as_deref().unwrap_or("/"));
    if !cwd.is_absolute() {
        return Err(c.err(&["workdir"], "must be an absolute path"));
    }
    let namespaces = namespaces(c, resolve)?;
    let user_maps = user_maps(c, &namespaces)?;
    Ok(Spec {
        name: name.clone(),
        process: Process {
            args: f.command.clone(),
            env,
            cwd,
            tty: f.tty,
        },
        hostname: f.hostname.clone().or_else(|| Some(name.clone())),
        namespaces,
        user_maps,
        rootfs: super::rootfs::rootfs(c)?,
        // Every container gets a cgroup, limits or not: it is how box finds, counts and kills
        // all of its processes.
        cgroup: Some(CgroupSpec {
            path: PathBuf::from("box").join(&name),
            resources: match &f.resources {
                Some(r) => super::resources::resources(c, r)?,
                None => Default::default(),
            },
        }),
        security: super::security::security(c)?,
        timings: false,
    })
}

/// Names become cgroup directories and state directories: keep them to a safe alphabet.
pub fn check_name(name: &str) -> Result<&str, String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "invalid name {name:?}: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        ))
    }
}

/// Each namespace kind with the value the file gives it, if any.
pub fn given(n: &Namespaces) -> [(Kind, Option<&str>); 8] {
    [
        (Kind::Cgroup, n.cgroup.as_deref()),
        (Kind::Ipc, n.ipc.as_deref()),
        (Kind::Mnt, n.mnt.as_deref()),
        (Kind::Net, n.net.as_deref()),
        (Kind::Pid, n.pid.as_deref()),
        (Kind::Time, n.time.as_deref()),
        (Kind::User, n.user.as_deref()),
        (Kind::Uts, n.uts.as_deref()),
    ]
}

/// The prefix of a namespace value that joins another container's namespace.
pub const CONTAINER_PREFIX: &str = "container:";

fn namespaces(c: &Ctx<'_>, resolve: Resolve<'_>) -> Result<NsConfig, ConfigError> {
    let mut config = NsConfig::default();
    for (kind, value) in given(&c.file.namespaces) {
        let Some(value) = value else { continue };
        let at = |m: String| c.err(&["namespaces", kind.proc_name()], m);
        let mode = match value {
            "new" => Mode::New,
            "host" => Mode::Host,
            v if v.starts_with(CONTAINER_PREFIX) => {
                Mode::Join(resolve(&v[CONTAINER_PREFIX.len()..], kind).map_err(at)?)
            }
            v if v.starts_with('/') => Mode::Join(PathBuf::from(v)),
            v => {
                return Err(at(format!(
                    "invalid value {v:?}: expected \"new\", \"host\", \"container:NAME\" or an absolute path to a namespace file"
                )))
            }
        };
        config.set(kind, mode);
    }
    if *config.mode(Kind::Mnt) != Mode::New {
        return Err(c.err(
            &["namespaces", "mnt"],
            "must be \"new\": the container's root filesystem needs its own mount namespace",
        ));
    }
    Ok(config)
}

fn user_maps(c: &Ctx<'_>, ns: &NsConfig) -> Result<Option<UserMaps>, ConfigError> {
    let to_maps = |v: &[[u32; 3]]| {
        v.iter()
            .map(|[inside, outside, count]| IdMap {
                inside: *inside,
                outside: *outside,
                count: *count,
            })
            .collect()
    };
    match (&c.file.user_namespace, ns.mode(Kind::User)) {
        (Some(u), Mode::New) => Ok(Some(UserMaps {
            uid: to_maps(&u.uid_map),
            gid: to_maps(&u.gid_map),
        })),
        (Some(_), _) => Err(c.err(
            &["user_namespace"],
            "id maps need namespaces.user = \"new\"",
        )),
        // Podman's default range: container root is an unprivileged host uid.
        (None, Mode::New) => {
            let map = vec![IdMap {
                inside: 0,
                outside: 100_000,
                count: 65_536,
            }];
            Ok(Some(UserMaps {
                uid: map.clone(),
                gid: map,
            }))
        }
        (None, _) => Ok(None),
    }
}

/// `"uid"`, `"uid:gid"` or `"uid:gid:gid2,gid3"` (supplementary groups), numeric ids.
pub fn user(text: Option<&str>) -> Result<UserSpec, String> {
    let Some(text) = text else {
        return Ok(UserSpec::default());
    };
    let bad =
        || format!("{text:?} is not \"UID[:GID[:GID,...]]\" with numeric ids (e.g. \"1000:1000\")");
    let mut parts = text.splitn(3, ':');
    let id = |s: Option<&str>| s.map(|s| s.parse::<u32>().map_err(|_| bad())).transpose();
    let uid = id(parts.next())?.ok_or_else(bad)?;
    let gid = id(parts.next())?.unwrap_or(uid);
    let additional_gids = match parts.next() {
        Some(list) => list
            .split(',')
            .map(|g| g.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(UserSpec {
        uid,
        gid,
        additional_gids,
    })
}
