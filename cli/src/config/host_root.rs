//! Mount targets on `rootfs = "host"`. That root is a tmpfs holding read-only binds of the
//! host's `/usr`, `/bin`, `/sbin`, `/lib*` and `/etc` (box-rootfs's host root): a mount point
//! that is missing inside one of those would have to be created on a read-only mount, which
//! `box up` can only fail on. Caught here, against the host's own tree, which those binds show.

use std::path::{Component, Path};

use super::schema::Mount;
use super::to_spec::Ctx;
use super::{ConfigError, Seg};

/// The host's top-level entries the host root shows read-only (the same list as box-rootfs's).
const SHARED: &[&str] = &[
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
];

/// Every `[[mounts]]` target of a host-root container can be mounted on.
pub fn check_mount_targets(c: &Ctx<'_>) -> Result<(), ConfigError> {
    let rootfs = c.file.rootfs.as_deref();
    if c.file.image.is_some() || rootfs.is_some_and(|r| r != super::schema::DEFAULT_ROOTFS) {
        return Ok(());
    }
    for (i, m) in c.file.mounts.iter().enumerate() {
        let target = match m {
            Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => target,
        };
        if let Some(shared) = read_only_home(Path::new(target)) {
            let at = [
                Seg::Key("mounts".into()),
                Seg::Index(i),
                Seg::Key("target".into()),
            ];
            return Err(c.error_at(
                &at,
                format!(
                    "{target:?} does not exist, and rootfs = \"host\" shows /{shared} read-only, \
                     so it cannot be created: mount on a directory that exists there, or under \
                     /tmp, /run, /root or a new top-level directory"
                ),
            ));
        }
    }
    Ok(())
}

/// The read-only shared directory `target` would have to be created in, if any. A target
/// that exists on the host exists in the container too (the binds are recursive, and symlinks
/// such as `/bin -> usr/bin` lead to the same place); one outside the shared directories goes
/// on the root's writable tmpfs.
fn read_only_home(target: &Path) -> Option<&'static str> {
    let first = target.components().find_map(|c| match c {
        Component::Normal(name) => name.to_str(),
        _ => None,
    })?;
    let shared = SHARED.iter().find(|s| **s == first)?;
    // A shared entry this host lacks is not in the container's root either: made on the tmpfs.
    std::fs::symlink_metadata(Path::new("/").join(shared)).ok()?;
    match std::fs::metadata(target) {
        Ok(_) => None,
        Err(_) => Some(shared),
    }
}

#[cfg(test)]
mod tests {
    use super::read_only_home;
    use std::path::Path;

    #[test]
    fn only_missing_paths_inside_shared_directories_are_refused() {
        assert_eq!(
            read_only_home(Path::new("/usr/box-no-such-dir")),
            Some("usr")
        );
        assert_eq!(read_only_home(Path::new("/etc/box-no/such")), Some("etc"));
        assert_eq!(read_only_home(Path::new("/usr")), None);
        assert_eq!(read_only_home(Path::new("/etc")), None);
        assert_eq!(read_only_home(Path::new("/data")), None);
        assert_eq!(read_only_home(Path::new("/tmp/x")), None);
        assert_eq!(read_only_home(Path::new("/usrx/y")), None);
    }
}
