//! Docker's `/sys/fs/cgroup` for a container ([`box_rootfs::CgroupFs::Detect`]), decided at
//! start from the host's cgroup layout: a pure v2 host mounts cgroup2 there; a v1 or hybrid
//! host gets runc's layout, a tmpfs with each hierarchy the container has a cgroup in.

use std::path::Path;

use box_cgroup::{Layout, Mode};
use box_rootfs::{CgroupFs, CgroupHierarchy};

/// What `/sys/fs/cgroup` shows on a host of `layout`: every v1 hierarchy of a controller
/// (named hierarchies such as systemd's `name=systemd` hold no cgroup of the container and
/// are left out), at its host directory's name, and the cgroup2 hierarchy of a hybrid host.
pub fn for_layout(layout: &Layout) -> CgroupFs {
    if layout.mode() == Mode::V2 {
        return CgroupFs::Unified;
    }
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut list: Vec<CgroupHierarchy> = layout
        .v1_hierarchies()
        .into_iter()
        .filter_map(|(path, controllers)| {
            Some(CgroupHierarchy {
                name: name(path)?,
                controllers: controllers.iter().map(|c| c.v1_name().into()).collect(),
            })
        })
        .collect();
    if let Some(name) = layout.v2_root().and_then(name) {
        list.push(CgroupHierarchy {
            name,
            controllers: Vec::new(),
        });
    }
    CgroupFs::Hierarchies(list)
}

/// `config` with [`CgroupFs::Detect`] resolved: for `layout` when the container has a cgroup
/// of its own in a new cgroup namespace (`own`), else nothing (a shared cgroup namespace
/// would show the host's or another container's hierarchy, not the container's own).
pub fn resolve(config: &mut box_rootfs::RootfsConfig, layout: Option<&Layout>, own: bool) {
    if config.cgroupfs == Some(CgroupFs::Detect) {
        config.cgroupfs = layout.filter(|_| own).map(for_layout);
    }
}

#[cfg(test)]
mod tests;
