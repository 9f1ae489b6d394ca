//! Which mounts of mountinfo a path lookup can reach. mountinfo also lists mounts that are
//! mounted over, such as a cgroup2 at `/sys/fs/cgroup/unified` after a tmpfs was mounted on
//! `/sys/fs/cgroup`: those must not count.
//!
//! The answer comes from the parent links, which are the kernel's own record of what sits on
//! what; mountinfo's order is used only to break a tie the links cannot (two mounts on the
//! same point of the same parent: the later one is on top).
//!
//! A mount is reachable when its parent is visible and no sibling covers its mount point
//! (a sibling mounted on the same point later, or on a directory above it); a mount stacked
//! on its parent's own mount point is reachable when its parent is. It is visible when it is
//! reachable and nothing is stacked on top of it.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::mountinfo::Mount;

/// The mounts of one mountinfo, linked to their parents and children.
pub(crate) struct Graph<'a> {
    mounts: &'a [Mount],
    children: HashMap<u64, Vec<usize>>,
    by_id: HashMap<u64, usize>,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(mounts: &'a [Mount]) -> Graph<'a> {
        let mut children: HashMap<u64, Vec<usize>> = HashMap::new();
        let by_id = mounts.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
        for (i, m) in mounts.iter().enumerate() {
            if m.parent != m.id {
                children.entry(m.parent).or_default().push(i);
            }
        }
        Graph {
            mounts,
            children,
            by_id,
        }
    }

    /// Whether `mounts[i]` is visible.
    pub(crate) fn is_visible(&self, i: usize) -> bool {
        self.visible(i, self.mounts.len())
    }

    /// `depth` bounds the walk up the parents, in case of a loop in bad input.
    fn visible(&self, i: usize, depth: usize) -> bool {
        self.reachable(i, depth) && !self.stacked_on(i)
    }

    fn reachable(&self, i: usize, depth: usize) -> bool {
        let m = &self.mounts[i];
        let parent = match self.by_id.get(&m.parent) {
            // The root of the namespace (or of a chroot): its parent is not shown.
            Some(&p) if p != i && depth > 0 => p,
            _ => return true,
        };
        if same(&self.mounts[parent].mount_point, &m.mount_point) {
            return self.reachable(parent, depth - 1) && !self.covered_by_sibling(i);
        }
        self.visible(parent, depth - 1) && !self.covered_by_sibling(i)
    }

    /// Whether a mount sits on `i`'s own mount point, on top of it.
    fn stacked_on(&self, i: usize) -> bool {
        let m = &self.mounts[i];
        self.children_of(m.id)
            .any(|c| c != i && same(&self.mounts[c].mount_point, &m.mount_point))
    }

    /// Whether a sibling hides `i`: one on a directory above `i`'s mount point, or a later one
    /// on the same point.
    fn covered_by_sibling(&self, i: usize) -> bool {
        let m = &self.mounts[i];
        self.children_of(m.parent).any(|s| {
            let point = &self.mounts[s].mount_point;
            s != i
                && if same(point, &m.mount_point) {
                    s > i
                } else {
                    below(&m.mount_point, point)
                }
        })
    }

    fn children_of(&self, id: u64) -> impl Iterator<Item = usize> + '_ {
        self.children.get(&id).into_iter().flatten().copied()
    }
}

/// Paths compared as bytes: mountinfo's are absolute and normalized by the kernel (no `.`,
/// no doubled or trailing `/`), so that is comparing components, without parsing them again
/// for each of the many pairs a layout detection compares on every start.
fn same(a: &Path, b: &Path) -> bool {
    a.as_os_str().as_bytes() == b.as_os_str().as_bytes()
}

/// Whether `path` lies below directory `dir` (not at it).
fn below(path: &Path, dir: &Path) -> bool {
    let dir = dir.as_os_str().as_bytes();
    match path.as_os_str().as_bytes().strip_prefix(dir) {
        Some(rest) => !rest.is_empty() && (dir.ends_with(b"/") || rest.starts_with(b"/")),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_means_a_path_under_the_directory_not_a_longer_name() {
        let p = Path::new;
        assert!(below(p("/sys/fs/cgroup/memory"), p("/sys/fs/cgroup")));
        assert!(below(p("/sys"), p("/")));
        assert!(!below(p("/sys/fs/cgroupx"), p("/sys/fs/cgroup")));
        assert!(!below(p("/sys/fs/cgroup"), p("/sys/fs/cgroup")));
        assert!(!below(p("/"), p("/")));
        assert!(!below(p("/sys"), p("/sys/fs")));
        assert!(same(p("/sys"), p("/sys")) && !same(p("/sys"), p("/sy")));
    }
}
