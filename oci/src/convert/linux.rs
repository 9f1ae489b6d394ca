//! `linux`: namespaces, id maps, the cgroup, seccomp, and the fields box refuses.

use std::path::{Component, Path};

use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespaceType};

use box_launcher::{CgroupSpec, UserMaps};
use box_net::{NetConfig, NetMode};
use box_ns::{IdMap, Kind, Mode, NsConfig};
use box_security::seccomp::Profile;
use box_security::SeccompConfig;

use super::{invalid, resources, unsupported, Bundle, ConvertError};

/// Where a container's cgroup goes when the bundle says nothing, or gives a relative path:
/// below box's own subtree, one level deeper than box's own containers (whose direct
/// children of `box/` its orphan sweep owns).
pub const DEFAULT_CGROUP_PARENT: &str = "box/oci";

/// Every kind the list names gets a new namespace, or joins its `path`; the others are the
/// host's.
pub(super) fn namespaces(linux: &Linux) -> Result<NsConfig, ConvertError> {
    let mut config = NsConfig::default();
    for kind in Kind::ALL {
        config.set(kind, Mode::Host);
    }
    for (i, ns) in linux
        .namespaces()
        .clone()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let kind = match ns.typ() {
            LinuxNamespaceType::Pid => Kind::Pid,
            LinuxNamespaceType::Network => Kind::Net,
            LinuxNamespaceType::Mount => Kind::Mnt,
            LinuxNamespaceType::Ipc => Kind::Ipc,
            LinuxNamespaceType::Uts => Kind::Uts,
            LinuxNamespaceType::User => Kind::User,
            LinuxNamespaceType::Cgroup => Kind::Cgroup,
            LinuxNamespaceType::Time => Kind::Time,
        };
        let mode = match ns.path() {
            Some(path) if !path.as_os_str().is_empty() => {
                if !path.is_absolute() {
                    return Err(invalid(
                        &format!("linux.namespaces[{i}].path"),
                        "must be an absolute path",
                    ));
                }
                Mode::Join(path.clone())
            }
            _ => Mode::New,
        };
        config.set(kind, mode);
    }
    if *config.mode(Kind::Mnt) != Mode::New {
        return Err(unsupported(
            "linux.namespaces",
            "box builds the container's root in a mount namespace of its own: list \"mount\" without a path",
        ));
    }
    Ok(config)
}

/// The engine owns the container's network: box only brings `lo` up in a new net namespace
/// (as runc does), and makes no interface, address or rule of its own.
pub(super) fn network(ns: &NsConfig) -> NetConfig {
    let mode = match ns.mode(Kind::Net) {
        Mode::New => NetMode::None,
        Mode::Host => NetMode::Host,
        Mode::Join(path) => NetMode::Joined(path.display().to_string()),
    };
    NetConfig {
        mode,
        ports: Vec::new(),
    }
}

pub(super) fn user_maps(linux: &Linux, ns: &NsConfig) -> Result<Option<UserMaps>, ConvertError> {
    let maps = |list: &Option<Vec<LinuxIdMapping>>| -> Vec<IdMap> {
        list.clone()
            .unwrap_or_default()
            .iter()
            .map(|m| IdMap {
                inside: m.container_id(),
                outside: m.host_id(),
                count: m.size(),
            })
            .collect()
    };
    let (uid, gid) = (maps(linux.uid_mappings()), maps(linux.gid_mappings()));
    match ns.mode(Kind::User) {
        Mode::New if uid.is_empty() || gid.is_empty() => Err(invalid(
            "linux.uidMappings",
            "a new user namespace needs uid and gid mappings",
        )),
        Mode::New => Ok(Some(UserMaps { uid, gid })),
        _ if !uid.is_empty() || !gid.is_empty() => Err(invalid(
            "linux.uidMappings",
            "mappings are for a new user namespace, and the bundle asks for none",
        )),
        _ => Ok(None),
    }
}

/// `cgroupsPath`: absolute from each hierarchy's root, relative below
/// [`DEFAULT_CGROUP_PARENT`], none at `box/oci/ID`. systemd's `slice:prefix:name` is a plain
/// relative name here, as runc's and crun's cgroupfs drivers take it (runc below its own
/// cgroup, crun below the root): engines that mean systemd's form also pass
/// `--systemd-cgroup`, which box refuses.
pub(super) fn cgroup(linux: &Linux, id: &str) -> Result<CgroupSpec, ConvertError> {
    let field = "linux.cgroupsPath";
    let path = match linux.cgroups_path() {
        None => Path::new(DEFAULT_CGROUP_PARENT).join(id),
        Some(p) if p.as_os_str().is_empty() => Path::new(DEFAULT_CGROUP_PARENT).join(id),
        Some(p) => match p.strip_prefix("/") {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => Path::new(DEFAULT_CGROUP_PARENT).join(p),
        },
    };
    if path.as_os_str().is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(invalid(
            field,
            format!("{path:?} is not a cgroup below a hierarchy's root"),
        ));
    }
    // box's own containers are the direct children of box/, which its orphan sweep removes
    // once their creator is gone: an OCI container's creator is always gone.
    if path.parent() == Some(Path::new("box")) {
        return Err(unsupported(
            field,
            format!(
                "/{}: box/NAME belongs to box's own containers; use box/GROUP/NAME",
                path.display()
            ),
        ));
    }
    let resources = match linux.resources() {
        Some(r) => resources(r, "linux.resources")?,
        None => Default::default(),
    };
    Ok(CgroupSpec {
        path,
        resources,
        layout: None,
    })
}

/// The inline profile, read by the security layer's own parser from the JSON as written.
pub(super) fn seccomp(bundle: &Bundle) -> Result<SeccompConfig, ConvertError> {
    let value = bundle
        .raw
        .get("linux")
        .and_then(|l| l.get("seccomp"))
        .filter(|v| !v.is_null());
    match value {
        None => Ok(SeccompConfig::Unconfined),
        Some(v) => Profile::from_value(v.clone(), "config.json: linux.seccomp")
            .map(|p| SeccompConfig::Inline(Box::new(p)))
            .map_err(|e| invalid("linux.seccomp", e.to_string())),
    }
}

/// Fields with no layer to honour them: an error when set, never dropped.
pub(super) fn refuse_unhandled(linux: &Linux) -> Result<(), ConvertError> {
    let set = [
        (
            "linux.intelRdt",
            linux.intel_rdt().is_some(),
            "box has no resctrl support",
        ),
        (
            "linux.personality",
            linux.personality().is_some(),
            "box sets no execution domain",
        ),
        (
            "linux.memoryPolicy",
            linux.memory_policy().is_some(),
            "box sets no NUMA policy",
        ),
        (
            "linux.timeOffsets",
            linux.time_offsets().as_ref().is_some_and(|t| !t.is_empty()),
            "box sets no time namespace offsets",
        ),
        (
            "linux.netDevices",
            linux.net_devices().as_ref().is_some_and(|t| !t.is_empty()),
            "box moves no network devices",
        ),
    ];
    for (field, is_set, why) in set {
        if is_set {
            return Err(unsupported(field, why));
        }
    }
    Ok(())
}
