//! `root`, `mounts`, `linux.devices`, masked and read-only paths, root propagation: the
//! rootfs layer's config. config.json's mount list replaces box's defaults whole, as the
//! spec says: the engine lists `/proc`, `/dev` and the rest itself.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Linux, LinuxDeviceType, Root as OciRoot};

use box_rootfs::{Device, DeviceType, Mount, Propagation, Root, RootfsConfig};

use super::{invalid, unsupported, Bundle, ConvertError};

pub(super) fn rootfs(
    bundle: &Bundle,
    root: &OciRoot,
    linux: &Linux,
) -> Result<RootfsConfig, ConvertError> {
    let mut mounts = Vec::new();
    for (i, m) in bundle
        .config
        .mounts()
        .clone()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        mounts.push(mount(bundle, i, m)?);
    }
    if linux.mount_label().as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(unsupported(
            "linux.mountLabel",
            "this host has no SELinux, and box labels no mounts",
        ));
    }
    let paths = |list: &Option<Vec<String>>| -> Vec<PathBuf> {
        list.clone()
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect()
    };
    let tty = bundle
        .config
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    Ok(RootfsConfig {
        root: Root::Dir(in_bundle(&bundle.dir, root.path())),
        readonly: root.readonly().unwrap_or(false),
        mounts,
        masked_paths: paths(linux.masked_paths()),
        readonly_paths: paths(linux.readonly_paths()),
        propagation: propagation(linux.rootfs_propagation().as_deref())?,
        console: tty,
        devices: devices(linux)?,
        cgroupfs: None,
        // A flag of `create`, not of the bundle: set by the command.
        no_pivot: false,
    })
}

/// A path of the bundle: relative ones are relative to the bundle directory.
fn in_bundle(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

fn mount(bundle: &Bundle, i: usize, m: &oci_spec::runtime::Mount) -> Result<Mount, ConvertError> {
    let field = format!("mounts[{i}]");
    if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
        return Err(unsupported(&field, "box makes no id-mapped mounts"));
    }
    let options = m.options().clone().unwrap_or_default();
    // A cgroup filesystem: the container's cgroup namespace's view of cgroup2, read-only
    // (on a v1 or hybrid host its v1 controllers are not shown; docs/oci.md).
    let typ = match m.typ().as_deref() {
        Some("cgroup") => Some("cgroup2"),
        other => other,
    };
    let bind = options.iter().any(|o| o == "bind" || o == "rbind");
    let source = m.source().as_ref().map(|s| {
        if bind {
            in_bundle(&bundle.dir, s)
        } else {
            s.clone()
        }
    });
    let mut parsed = Mount::parse(m.destination().clone(), typ, source, &options)
        .map_err(|e| invalid(&field, e.to_string()))?;
    if typ == Some("cgroup2") {
        parsed.options.readonly = box_rootfs::ReadOnly::Yes;
        parsed.options.data.clear();
    }
    if !parsed.destination.is_absolute() {
        return Err(invalid(
            &format!("{field}.destination"),
            "must be an absolute path",
        ));
    }
    Ok(parsed)
}

fn propagation(value: Option<&str>) -> Result<Propagation, ConvertError> {
    match value.unwrap_or("") {
        "" | "private" | "rprivate" => Ok(Propagation::Private),
        "slave" | "rslave" => Ok(Propagation::Slave),
        other => Err(unsupported(
            "linux.rootfsPropagation",
            format!("{other:?}: box keeps the container's mounts private or slave"),
        )),
    }
}

fn devices(linux: &Linux) -> Result<Vec<Device>, ConvertError> {
    let mut out = Vec::new();
    for (i, d) in linux
        .devices()
        .clone()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let field = format!("linux.devices[{i}]");
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => DeviceType::Char,
            LinuxDeviceType::B => DeviceType::Block,
            other => {
                return Err(unsupported(
                    &field,
                    format!("type {other:?}: box makes character and block devices only"),
                ))
            }
        };
        let number = |n: i64, what: &str| {
            u64::try_from(n).map_err(|_| invalid(&format!("{field}.{what}"), "negative"))
        };
        out.push(Device {
            path: d.path().clone(),
            kind,
            major: number(d.major(), "major")?,
            minor: number(d.minor(), "minor")?,
            mode: d.file_mode().unwrap_or(0o666),
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
            // Bound instead where mknod is refused (a user namespace): the host's node of
            // the same path, as runc does.
            source: d.path().clone(),
        });
    }
    Ok(out)
}
