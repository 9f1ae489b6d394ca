//! The container's cgroup, reopened by its path: box-runc holds no cgroup between commands.

use anyhow::{Context, Result};
use box_cgroup::{Cgroup, Layout};

pub fn open(spec: &box_launcher::Spec) -> Result<Cgroup> {
    let cg = spec
        .cgroup
        .as_ref()
        .context("the container has no cgroup")?;
    let layout = Layout::detect().context("detect the cgroup layout")?;
    Cgroup::open(&layout, &cg.path).with_context(|| format!("open cgroup {}", cg.path.display()))
}
