//! `devices`: host devices for the container, each as Docker's `--device`
//! `HOST[:CONTAINER][:PERMISSIONS]`. Each becomes a node in the container's `/dev` and an
//! allow rule in the cgroup device policy, after Docker's default rules.

use std::path::{Path, PathBuf};

use box_cgroup::{DeviceAccess, DeviceKind, DeviceRule, DEFAULT_DEVICE_RULES};
use box_rootfs::{Device, DeviceType};
use nix::errno::Errno;

use super::to_spec::Ctx;
use super::{ConfigError, Seg};

/// The nodes to make in `/dev` and the whole device policy (Docker's defaults, then one
/// rule per device).
pub fn devices(c: &Ctx<'_>) -> Result<(Vec<Device>, Vec<DeviceRule>), ConfigError> {
    let mut nodes = Vec::new();
    let mut policy = DEFAULT_DEVICE_RULES.to_vec();
    for (i, entry) in c.file.devices.iter().enumerate() {
        let at = |m: String| c.error_at(&[Seg::Key("devices".into()), Seg::Index(i)], m);
        let (node, rule) = device(entry, &nodes).map_err(at)?;
        nodes.push(node);
        policy.push(rule);
    }
    Ok((nodes, policy))
}

/// One entry, checked against the nodes before it.
fn device(entry: &str, earlier: &[Device]) -> Result<(Device, DeviceRule), String> {
    let (host, path, access) = split(entry)?;
    let host = Path::new(host);
    if !host.is_absolute() {
        return Err(format!(
            "{:?}: the host device must be an absolute path",
            host
        ));
    }
    if host.is_dir() {
        return Err(format!(
            "{} is a directory: list the devices in it one by one",
            host.display()
        ));
    }
    let node = Device::from_host(host, PathBuf::from(path)).map_err(|e| match e {
        box_rootfs::Error::HostPath {
            errno: Errno::ENOENT,
            ..
        } => format!("{} does not exist on this host", host.display()),
        box_rootfs::Error::Invalid { reason, .. } => format!("{}: {reason}", host.display()),
        other => other.to_string(),
    })?;
    node.validate(earlier)
        .map_err(|reason| format!("{path}: {reason}"))?;
    let number = |n: u64| u32::try_from(n).ok();
    let rule = DeviceRule {
        kind: match node.kind {
            DeviceType::Char => DeviceKind::Char,
            DeviceType::Block => DeviceKind::Block,
        },
        major: number(node.major),
        minor: number(node.minor),
        access,
    };
    if rule.major.is_none() || rule.minor.is_none() {
        return Err(format!("{}: device numbers out of range", host.display()));
    }
    rule.check()?;
    Ok((node, rule))
}

/// `HOST`, `HOST:CONTAINER`, `HOST:PERMISSIONS` or `HOST:CONTAINER:PERMISSIONS`, as Docker
/// reads them; the container path defaults to the host path and the permissions to `rwm`.
fn split(entry: &str) -> Result<(&str, &str, DeviceAccess), String> {
    let bad = || {
        format!(
            "{entry:?} is not \"HOST[:CONTAINER][:PERMISSIONS]\" (e.g. \"/dev/loop0:/dev/xvda:rw\")"
        )
    };
    let parts: Vec<&str> = entry.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let (host, path, access) = match parts[..] {
        [host] => (host, host, None),
        [host, second] => match second.parse::<DeviceAccess>() {
            Ok(access) => (host, host, Some(access)),
            Err(_) => (host, second, None),
        },
        [host, path, access] => (host, path, Some(access.parse::<DeviceAccess>()?)),
        _ => return Err(bad()),
    };
    Ok((host, path, access.unwrap_or(DeviceAccess::RWM)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_as_dockers() {
        let rw = DeviceAccess::RW;
        let rwm = DeviceAccess::RWM;
        assert_eq!(split("/dev/fuse").unwrap(), ("/dev/fuse", "/dev/fuse", rwm));
        assert_eq!(
            split("/dev/fuse:rw").unwrap(),
            ("/dev/fuse", "/dev/fuse", rw)
        );
        assert_eq!(
            split("/dev/sda:/dev/xvda").unwrap(),
            ("/dev/sda", "/dev/xvda", rwm)
        );
        assert_eq!(
            split("/dev/sda:/dev/xvda:rw").unwrap(),
            ("/dev/sda", "/dev/xvda", rw)
        );
        for bad in [
            "",
            ":",
            "/dev/a::rw",
            "/dev/a:/dev/b:rw:x",
            "/dev/a:/dev/b:rwx",
        ] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_device_is_a_node_and_a_rule() {
        let (node, rule) = device("/dev/full:/dev/myfull:r", &[]).unwrap();
        assert_eq!(node.path, Path::new("/dev/myfull"));
        assert_eq!(rule.to_string(), "c 1:7 r");
        assert!(device("/dev/full:/dev/myfull", &[node]).is_err());
    }
}
