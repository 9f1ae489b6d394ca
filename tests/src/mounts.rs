//! The host's mount table, to check after an attack that nothing changed on the host.

use std::collections::BTreeMap;
use std::path::Path;

/// The host's mount table (`/proc/self/mountinfo` of the test, which runs in the host's mount
/// namespace), to compare before and after an attack.
///
/// Mounts whose mount point is under the temporary directory are left out, except those under
/// the attacked case's own directory: other tests running at the same time create and remove
/// theirs there. Everything else — `/`, `/proc`, `/sys`, `/dev`, the cgroup hierarchies, any
/// other mount of the host — must keep its mount id, its place and its options.
pub struct HostMounts {
    lines: BTreeMap<u64, String>,
}

impl HostMounts {
    pub fn snapshot(ours: &Path) -> HostMounts {
        let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
        let tmp = std::env::temp_dir();
        let lines = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let id: u64 = fields.next()?.parse().ok()?;
                let mount_point = Path::new(fields.nth(3)?);
                let churn = mount_point.starts_with(&tmp) && !mount_point.starts_with(ours);
                (!churn).then(|| (id, line.to_string()))
            })
            .collect();
        HostMounts { lines }
    }

    /// Panics, listing the difference, unless the host's mounts are as in `self`.
    pub fn assert_unchanged(&self, ours: &Path) {
        let now = HostMounts::snapshot(ours);
        let gone: Vec<&String> = self
            .lines
            .iter()
            .filter(|(id, line)| now.lines.get(id) != Some(line))
            .map(|(_, line)| line)
            .collect();
        let new: Vec<&String> = now
            .lines
            .iter()
            .filter(|(id, line)| self.lines.get(id) != Some(line))
            .map(|(_, line)| line)
            .collect();
        assert!(
            gone.is_empty() && new.is_empty(),
            "the host's mounts changed\nbefore:\n{}\nafter:\n{}",
            gone.iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            new.iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}
