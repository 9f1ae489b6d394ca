//! One container of a box.toml → `launcher::Spec`, checking every value on the way; each
//! error names its full key (`containers.web.resources.memory` in a several-container file).

use std::path::PathBuf;

use box_launcher::{CgroupSpec, Process, Spec, UserMaps};
use box_ns::{IdMap, Kind, Mode, NsConfig};
use box_security::UserSpec;

use super::image::{on_image, Images, Resolved};
use super::process;
use super::schema::{Container, Namespaces};
use super::{ConfigError, Def, Loaded, Seg};
use crate::name::Name;

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

    /// A required key that is not there, placed where toml places it: the start of the
    /// container's table's line (of the file, in the single-container form).
    pub fn missing(&self, key: &str) -> ConfigError {
        let mut err = self.error_at(&[], "this required key is missing");
        err.at = Some(err.at.map_or((1, 1), |(line, _)| (line, 1)));
        err.key = Some(super::locate::render(&self.full(&[Seg::Key(key.into())])));
        err
    }

    /// [`Ctx::error_at`] for a path of plain keys.
    pub fn err(&self, path: &[&str], message: impl Into<String>) -> ConfigError {
        self.error_at(&key(path), message)
    }
}

pub fn key(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// What a container's conversion needs of the host: the running containers (for joins), the
/// image store, and where each container's state directory is.
pub struct Host<'a> {
    /// The PID 1 of a running container.
    pub container_pid: &'a dyn Fn(&str) -> Option<i32>,
    pub images: Images<'a>,
    /// The state directory of the container of that name (absolute).
    pub state_dir: &'a dyn Fn(&str) -> PathBuf,
}

/// Builds one container's `Spec` (and the image it runs on, if any). `name` overrides the
/// file's `name` key (the table key of a `[containers.NAME]` table, checked by the caller).
pub fn to_spec(
    c: &Ctx<'_>,
    name: Option<&str>,
    resolve: Resolve<'_>,
    host: &Host<'_>,
) -> Result<(Spec, Option<Resolved>), ConfigError> {
    let f = c.file;
    let name = match name.or(f.name.as_deref()) {
        Some(n) => Name::parse(n)
            .map_err(|e| c.err(&["name"], e.to_string()))?
            .to_string(),
        None => format!("box-{}", std::process::id()),
    };
    let hostname = process::hostname(c)?.unwrap_or_else(|| name.clone());
    let mut namespaces = namespaces(c, resolve)?;
    let network = super::network::network(c, &mut namespaces, resolve, &name, &hostname)?;
    let on_image = match &f.image {
        Some(reference) => {
            let dir = (host.state_dir)(&name);
            Some(on_image(c, reference, host.images, dir)?)
        }
        None => None,
    };
    let (mut args, env, cwd, user) = match &on_image {
        Some(i) => {
            let id = &i.identity;
            let user = UserSpec {
                uid: id.uid,
                gid: id.gid,
                additional_gids: id.additional_gids.clone(),
            };
            (
                process::image_command(c, &i.plan.args)?,
                process::image_env(c, i.plan.env.clone(), &id.home, &hostname)?,
                PathBuf::from(&i.plan.workdir),
                Some(user),
            )
        }
        None => (
            process::command(c)?,
            process::env(c, &hostname)?,
            process::workdir(c)?,
            None,
        ),
    };
    let user_maps = user_maps(c, &namespaces)?;
    let (device_nodes, device_policy) = super::devices::devices(c)?;
    let mut rootfs = super::rootfs::rootfs(c)?;
    super::host_root::check_mount_targets(c)?;
    rootfs.devices = device_nodes;
    let resolved = on_image.map(|i| {
        rootfs.root = i.root;
        i.resolved
    });
    if f.init {
        // After the checks of user mounts: box's own bind, into box's own /dev.
        let init = crate::init::IN_CONTAINER;
        rootfs.mounts.push(box_rootfs::Mount::bind(
            crate::init::host_path(),
            init,
            true,
        ));
        args.splice(0..0, [init.to_string(), "--".to_string()]);
    }
    let (mut resources, layout) = match &f.resources {
        Some(r) => super::resources::resources(c, r)?,
        None => Default::default(),
    };
    // Docker's device policy always, plus the devices the file adds.
    resources.devices = Some(device_policy);
    let (security, security_host) = super::security::security(c, user)?;
    let spec = Spec {
        name: name.clone(),
        process: Process {
            args,
            env,
            cwd,
            tty: f.tty,
        },
        hostname: Some(hostname),
        namespaces,
        user_maps,
        rootfs,
        // Every container gets a cgroup, limits or not: it is how box finds, counts and kills
        // all of its processes, and it holds the device policy.
        cgroup: Some(CgroupSpec {
            path: PathBuf::from("box").join(&name),
            resources,
            layout,
        }),
        security,
        security_host: Some(security_host),
        network,
        tunables: Default::default(),
        timings: false,
    };
    Ok((spec, resolved))
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
                let other = &v[CONTAINER_PREFIX.len()..];
                Name::parse(other).map_err(|e| at(e.to_string()))?;
                Mode::Join(resolve(other, kind).map_err(at)?)
            }
            v if v.starts_with('/') => {
                let path = PathBuf::from(v);
                check_namespace_file(kind, &path).map_err(at)?;
                Mode::Join(path)
            }
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

/// What `box up` checks before it creates anything: `box_ns::check` opens only a file of nsfs,
/// and NS_GET_NSTYPE must say it is a namespace of this kind.
fn check_namespace_file(kind: Kind, path: &std::path::Path) -> Result<(), String> {
    let mut one = NsConfig::default();
    one.set(kind, Mode::Join(path.to_path_buf()));
    box_ns::check(&one).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nsfs_files_are_opened_as_namespaces() {
        assert_eq!(
            check_namespace_file(Kind::Net, std::path::Path::new("/proc/self/ns/net")),
            Ok(())
        );
        // Opened for reading, a fifo without a writer would block box forever.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ns");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = check_namespace_file(Kind::Net, &fifo).unwrap_err();
        assert_eq!(err, format!("{} is not a net namespace", fifo.display()));
        let err = check_namespace_file(Kind::Net, std::path::Path::new("/dev/null")).unwrap_err();
        assert_eq!(err, "/dev/null is not a net namespace");
    }
}
