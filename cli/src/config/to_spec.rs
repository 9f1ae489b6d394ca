//! box.toml → `launcher::Spec`, checking every value on the way; each error names its key.

use std::path::{Component, Path, PathBuf};

use box_cgroup::{parse_size, DeviceLimit};
use box_launcher::{CgroupSpec, Process, Spec, UserMaps, DEFAULT_PATH};
use box_ns::{IdMap, Kind, Mode, NsConfig};
use box_rootfs::{Mount, MountKind, Root, RootfsConfig};
use box_security::{
    CapSet, CapabilityConfig, Error as SecurityError, Rlimit, SeccompConfig, SecurityConfig,
    UserSpec,
};

use super::locate::suggest;
use super::schema::{self, Size};
use super::{ConfigError, Loaded, Seg};

fn key(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// Resolves `container:NAME` namespace references to the PID of a running container.
pub type ContainerPid<'a> = &'a dyn Fn(&str) -> Option<i32>;

/// Builds the container's `Spec` from a loaded box.toml.
pub fn to_spec(loaded: &Loaded, container_pid: ContainerPid<'_>) -> Result<Spec, ConfigError> {
    let f = &loaded.file;
    let err = |path: &[&str], msg: String| loaded.error_at(&key(path), msg);
    if f.command.is_empty() || f.command[0].is_empty() {
        return Err(err(&["command"], "must name a program to run".into()));
    }
    let name = match &f.name {
        Some(n) => check_name(n).map_err(|m| err(&["name"], m))?.to_string(),
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
        return Err(err(&["workdir"], "must be an absolute path".into()));
    }
    let namespaces = namespaces(loaded, container_pid)?;
    let user_maps = user_maps(loaded, &namespaces)?;
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
        rootfs: rootfs(loaded)?,
        // Every container gets a cgroup, limits or not: it is how box finds, counts and kills
        // all of its processes.
        cgroup: Some(CgroupSpec {
            path: PathBuf::from("box").join(&name),
            resources: match &f.resources {
                Some(r) => resources(loaded, r)?,
                None => Default::default(),
            },
        }),
        security: security(loaded)?,
        timings: false,
    })
}

/// Names become cgroup directories and state directories: keep them to a safe alphabet.
fn check_name(name: &str) -> Result<&str, String> {
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

fn namespaces(loaded: &Loaded, container_pid: ContainerPid<'_>) -> Result<NsConfig, ConfigError> {
    let n = &loaded.file.namespaces;
    let mut config = NsConfig::default();
    let given = [
        (Kind::Cgroup, &n.cgroup),
        (Kind::Ipc, &n.ipc),
        (Kind::Mnt, &n.mnt),
        (Kind::Net, &n.net),
        (Kind::Pid, &n.pid),
        (Kind::Time, &n.time),
        (Kind::User, &n.user),
        (Kind::Uts, &n.uts),
    ];
    for (kind, value) in given {
        let Some(value) = value else { continue };
        let at = |m: String| loaded.error_at(&key(&["namespaces", kind.proc_name()]), m);
        let mode = match value.as_str() {
            "new" => Mode::New,
            "host" => Mode::Host,
            v if v.starts_with("container:") => {
                let other = &v["container:".len()..];
                let pid = container_pid(other)
                    .ok_or_else(|| at(format!("no running container named {other:?}")))?;
                Mode::Join(PathBuf::from(format!("/proc/{pid}/ns/{kind}")))
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
        return Err(loaded.error_at(
            &key(&["namespaces", "mnt"]),
            "must be \"new\": the container's root filesystem needs its own mount namespace",
        ));
    }
    Ok(config)
}

fn user_maps(loaded: &Loaded, ns: &NsConfig) -> Result<Option<UserMaps>, ConfigError> {
    let to_maps = |v: &[[u32; 3]]| {
        v.iter()
            .map(|[inside, outside, count]| IdMap {
                inside: *inside,
                outside: *outside,
                count: *count,
            })
            .collect()
    };
    match (&loaded.file.user_namespace, ns.mode(Kind::User)) {
        (Some(u), Mode::New) => Ok(Some(UserMaps {
            uid: to_maps(&u.uid_map),
            gid: to_maps(&u.gid_map),
        })),
        (Some(_), _) => Err(loaded.error_at(
            &key(&["user_namespace"]),
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

fn rootfs(loaded: &Loaded) -> Result<RootfsConfig, ConfigError> {
    let f = &loaded.file;
    let root = if f.rootfs == "host" {
        Root::Host
    } else {
        let dir = absolute(&loaded.base_dir(), &f.rootfs);
        if !dir.is_dir() {
            return Err(loaded.error_at(
                &key(&["rootfs"]),
                format!(
                    "{} is not a directory (use \"host\" for a read-only view of this host)",
                    dir.display()
                ),
            ));
        }
        Root::Dir(dir)
    };
    let mut mounts = Vec::new();
    for (i, m) in f.mounts.iter().enumerate() {
        let at = |field: &str, msg: String| {
            loaded.error_at(
                &[
                    Seg::Key("mounts".into()),
                    Seg::Index(i),
                    Seg::Key(field.into()),
                ],
                msg,
            )
        };
        let target = |t: &str| {
            let p = PathBuf::from(t);
            if !p.is_absolute() || p.components().any(|c| c == Component::ParentDir) {
                Err(at(
                    "target",
                    format!("{t:?} must be an absolute path without \"..\""),
                ))
            } else {
                Ok(p)
            }
        };
        mounts.push(match m {
            schema::Mount::Bind {
                source,
                target: t,
                readonly,
            } => {
                let source = absolute(&loaded.base_dir(), source);
                if !source.exists() {
                    return Err(at("source", format!("{} does not exist", source.display())));
                }
                Mount {
                    target: target(t)?,
                    kind: MountKind::Bind {
                        source,
                        readonly: *readonly,
                    },
                }
            }
            schema::Mount::Tmpfs {
                target: t,
                size,
                mode,
            } => Mount {
                target: target(t)?,
                kind: MountKind::Tmpfs {
                    size: size
                        .as_ref()
                        .map(|s| size_bytes(s).map_err(|m| at("size", m)))
                        .transpose()?,
                    mode: mode
                        .as_ref()
                        .map(|m| file_mode(m).map_err(|e| at("mode", e)))
                        .transpose()?,
                },
            },
        });
    }
    Ok(RootfsConfig {
        root,
        readonly: f.security.readonly_rootfs,
        mounts,
        console: f.tty,
        ..RootfsConfig::default()
    })
}

fn absolute(base: &Path, p: &str) -> PathBuf {
    let joined = base.join(p);
    std::fs::canonicalize(&joined).unwrap_or(joined)
}

fn size_bytes(s: &Size) -> Result<u64, String> {
    match s {
        Size::Bytes(n) if *n >= 0 => Ok(*n as u64),
        Size::Bytes(n) => Err(format!("{n} is negative")),
        Size::Text(t) => parse_size(t).map_err(|e| e.to_string()),
    }
}

fn file_mode(m: &schema::Mode) -> Result<u32, String> {
    let mode = match m {
        schema::Mode::Number(n) => *n,
        schema::Mode::Text(t) => u32::from_str_radix(t.trim_start_matches("0o"), 8)
            .map_err(|_| format!("{t:?} is not an octal mode like \"1777\""))?,
    };
    if mode > 0o7777 {
        return Err(format!("{mode:o} is not a mode (at most 7777)"));
    }
    Ok(mode)
}

fn resources(loaded: &Loaded, r: &schema::Resources) -> Result<box_cgroup::Resources, ConfigError> {
    let at = |field: &str, msg: String| loaded.error_at(&key(&["resources", field]), msg);
    let bytes = |field: &str, s: &Option<Size>| {
        s.as_ref()
            .map(|s| size_bytes(s).map_err(|m| at(field, m)))
            .transpose()
    };
    let swap = match &r.memory_swap {
        Some(Size::Bytes(-1)) => Some(-1),
        other => bytes("memory_swap", other)?.map(|b| b as i64),
    };
    let devices = |field: &str, list: &[String], sized: bool| {
        list.iter()
            .map(|entry| device_limit(entry, sized).map_err(|m| at(field, m)))
            .collect::<Result<Vec<_>, _>>()
    };
    let res = box_cgroup::Resources {
        memory: bytes("memory", &r.memory)?,
        memory_swap: swap,
        memory_reservation: bytes("memory_reservation", &r.memory_reservation)?,
        cpus: r.cpus,
        cpu_shares: r.cpu_shares,
        cpuset_cpus: r.cpuset_cpus.clone(),
        cpuset_mems: r.cpuset_mems.clone(),
        pids: r.pids,
        io_weight: r.io_weight,
        io_read_bps: devices("io_read_bps", &r.io_read_bps, true)?,
        io_write_bps: devices("io_write_bps", &r.io_write_bps, true)?,
        io_read_iops: devices("io_read_iops", &r.io_read_iops, false)?,
        io_write_iops: devices("io_write_iops", &r.io_write_iops, false)?,
    };
    if let Ok(layout) = box_cgroup::Layout::detect() {
        res.validate(&layout).map_err(|e| at(e.field, e.message))?;
    }
    Ok(res)
}

/// `"8:0 1m"` → major 8, minor 0, rate 1 MiB (a size for bps, a plain count for iops).
fn device_limit(entry: &str, sized: bool) -> Result<DeviceLimit, String> {
    let bad = || format!("{entry:?} is not \"MAJOR:MINOR RATE\" (e.g. \"8:0 1m\")");
    let (dev, rate) = entry.split_once(' ').ok_or_else(bad)?;
    let (major, minor) = dev.split_once(':').ok_or_else(bad)?;
    let rate = rate.trim();
    let rate = if sized {
        parse_size(rate).map_err(|e| e.to_string())?
    } else {
        rate.parse().map_err(|_| bad())?
    };
    Ok(DeviceLimit {
        major: major.parse().map_err(|_| bad())?,
        minor: minor.parse().map_err(|_| bad())?,
        rate,
    })
}

/// `[security]` and `user` → `SecurityConfig`, checked against this host by
/// `box_security::check` (everything `prepare` checks, without building the seccomp filter,
/// which the launcher builds once). Its errors are pinned to the key they come from; its
/// warnings are printed here, so `box validate` and `box up` both show them.
fn security(loaded: &Loaded) -> Result<SecurityConfig, ConfigError> {
    /// Pins an error of `box_security::check` to the box.toml key it comes from.
    fn pin(loaded: &Loaded, e: SecurityError) -> ConfigError {
        let rlimits = &loaded.file.security.rlimits;
        let under = |path: &[&str], last: Option<usize>| -> Vec<Seg> {
            let mut segs = key(&[&["security"], path].concat());
            segs.extend(last.map(Seg::Index));
            segs
        };
        // The n-th rlimit of the config is the n-th key of the (ordered) table.
        let rlimit = |index: usize| {
            let name = rlimits.keys().nth(index).map_or("", String::as_str);
            under(&["rlimits", name], None)
        };
        let hint = |word: &str, known: &[&str], otherwise: String| {
            suggest(word, known.iter().copied())
                .map_or(otherwise, |good| format!(" (did you mean \"{good}\"?)"))
        };
        match e {
            SecurityError::UnknownCapability { list, index, name } => {
                let upper = name.trim().to_ascii_uppercase();
                let prefix = if upper.starts_with("CAP_") { "CAP_" } else { "" };
                let bare = upper.trim_start_matches("CAP_");
                let known: Vec<String> = CapSet::all()
                    .iter()
                    .map(|c| format!("{prefix}{}", c.to_string().trim_start_matches("CAP_")))
                    .collect();
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                let otherwise = "; use names like \"NET_ADMIN\" or \"CAP_NET_ADMIN\", or \"ALL\"";
                let hint = hint(&format!("{prefix}{bare}"), &known, otherwise.into());
                loaded.error_at(
                    &under(&["capabilities", list], Some(index)),
                    format!("unknown capability {name:?}{hint}"),
                )
            }
            SecurityError::CapabilityUnavailable { index, name } => loaded.error_at(
                &under(&["capabilities", "add"], Some(index)),
                format!(
                    "{name} is not in this host's bounding set, so no process box starts can have it"
                ),
            ),
            SecurityError::UnknownRlimit { index, name, known } => {
                let names: Vec<&str> = known.split(", ").collect();
                let lower = name.to_ascii_lowercase();
                let hint = hint(&lower, &names, format!("; known: {known}"));
                loaded.error_at(&rlimit(index), format!("unknown resource {name:?}{hint}"))
            }
            SecurityError::InvalidRlimit { index, name, message } => {
                // `nofile` and `RLIMIT_NOFILE` are two TOML keys but one resource.
                let this = rlimits.keys().nth(index);
                let other = rlimits.keys().find(|k| {
                    Some(*k) != this
                        && box_security::parse_rlimit_name(k).is_some_and(|(n, _)| n == name)
                });
                let message = match other {
                    Some(other) => format!("names the same resource ({name}) as {other:?}"),
                    None => message,
                };
                loaded.error_at(&rlimit(index), message)
            }
            SecurityError::RlimitCannotRaise {
                index,
                requested,
                current,
                ..
            } => loaded.error_at(
                &rlimit(index),
                format!(
                    "hard limit {requested} is above the current hard limit {current}; raising \
                     a hard limit needs CAP_SYS_RESOURCE, which box does not have here"
                ),
            ),
            e @ (SecurityError::Profile { .. }
            | SecurityError::ProfileRead { .. }
            | SecurityError::FilterCompile { .. }
            | SecurityError::UnsupportedArch { .. }
            | SecurityError::SeccompNeedsPrivilege) => {
                let text = e.to_string();
                let text = text.strip_prefix("seccomp: ").unwrap_or(&text);
                loaded.error_at(&under(&["seccomp"], None), text)
            }
            e @ (SecurityError::LsmUnavailable { lsm, .. }
            | SecurityError::LsmLabel { lsm, .. }) => {
                let field = if lsm == "AppArmor" {
                    "apparmor"
                } else {
                    "selinux_label"
                };
                loaded.error_at(&under(&[field], None), e.to_string())
            }
            e => loaded.error_at(&key(&["security"]), e.to_string()),
        }
    }

    let f = &loaded.file;
    let s = &f.security;
    let at = |path: &[&str], msg: String| loaded.error_at(&key(path), msg);
    let seccomp = match s.seccomp.as_deref() {
        None | Some("default") => SeccompConfig::Default,
        Some("unconfined") => SeccompConfig::Unconfined,
        Some(path) => {
            let file = absolute(&loaded.base_dir(), path);
            if !file.is_file() {
                return Err(at(
                    &["security", "seccomp"],
                    format!("{} is not a file (use \"default\", \"unconfined\" or a path to a JSON profile)", file.display()),
                ));
            }
            SeccompConfig::Profile(file)
        }
    };
    let rlimits = s
        .rlimits
        .iter()
        .map(|(name, value)| {
            let (soft, hard) = match value {
                schema::Rlimit::Both(n) => (*n, *n),
                schema::Rlimit::SoftHard([soft, hard]) => (*soft, *hard),
            };
            if soft > hard {
                return Err(at(
                    &["security", "rlimits", name],
                    format!("soft limit {soft} is above the hard limit {hard}"),
                ));
            }
            Ok(Rlimit {
                resource: name.clone(),
                soft,
                hard,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = SecurityConfig {
        capabilities: CapabilityConfig {
            add: s.capabilities.add.clone(),
            drop: s.capabilities.drop.clone(),
        },
        no_new_privileges: s.no_new_privileges.unwrap_or(false),
        seccomp,
        rlimits,
        apparmor_profile: s.apparmor.clone(),
        selinux_label: s.selinux_label.clone(),
        user: user(f.user.as_deref()).map_err(|m| at(&["user"], m))?,
    };

    let warnings = box_security::check(&config).map_err(|e| pin(loaded, e))?;
    for warning in warnings {
        eprintln!("box: warning: {warning}");
    }
    Ok(config)
}

/// `"uid"`, `"uid:gid"` or `"uid:gid:gid2,gid3"` (supplementary groups), numeric ids.
fn user(text: Option<&str>) -> Result<UserSpec, String> {
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
