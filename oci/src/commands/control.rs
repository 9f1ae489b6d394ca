//! `kill`, `pause`, `resume`, `update`: acting on a container that exists.

use std::io::Read;

use anyhow::{bail, Context, Result};
use nix::errno::Errno;
use nix::unistd::Pid;

use crate::cli::{Global, Update};
use crate::convert::resources;
use crate::state::{Root, Status};

/// kill(2) with a signal number: nix's `Signal` has no real-time signals.
fn send(pid: Pid, sig: i32) -> nix::Result<()> {
    // SAFETY: kill(2) reads no memory of ours; both arguments are plain integers.
    Errno::result(unsafe { libc::kill(pid.as_raw(), sig) }).map(drop)
}

pub fn kill(g: &Global, id: &str, signal: &str, all: bool) -> Result<i32> {
    let sig = crate::signal::parse(signal)?;
    let locked = Root(g.root.clone()).open(id)?;
    let record = locked.read()?;
    if all {
        for pid in crate::cgroup::open(&record.spec)?.procs()? {
            match send(pid, sig) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(e) => return Err(e).with_context(|| format!("kill {pid}")),
            }
        }
        return Ok(0);
    }
    let Some(pid) = record.live_pid() else {
        bail!("container {id:?} is not running");
    };
    send(pid, sig).with_context(|| format!("kill {pid}"))?;
    Ok(0)
}

pub fn pause(g: &Global, id: &str, freeze: bool) -> Result<i32> {
    let locked = Root(g.root.clone()).open(id)?;
    let record = locked.read()?;
    let status = record.status(&locked.dir);
    let cg = crate::cgroup::open(&record.spec)?;
    match (freeze, status) {
        (true, Status::Running) => cg.freeze()?,
        (false, Status::Paused) => cg.thaw()?,
        (true, s) => bail!("container {id:?} is {}, not running", s.as_str()),
        (false, s) => bail!("container {id:?} is {}, not paused", s.as_str()),
    }
    Ok(0)
}

pub fn update(g: &Global, u: &Update) -> Result<i32> {
    let locked = Root(g.root.clone()).open(&u.id)?;
    let mut record = locked.read()?;
    let cg_spec = record
        .spec
        .cgroup
        .as_mut()
        .context("the container has no cgroup")?;
    let mut res = cg_spec.resources.clone();
    if let Some(path) = &u.resources {
        let mut text = String::new();
        if path.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text)?;
        } else {
            text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
        }
        let oci: oci_spec::runtime::LinuxResources =
            serde_json::from_str(&text).context("parse the resources")?;
        let given = resources(&oci, "resources")?;
        merge(&mut res, given);
    }
    let size = |s: &Option<String>| -> Result<Option<u64>> {
        s.as_deref()
            .map(box_cgroup::parse_size)
            .transpose()
            .map_err(Into::into)
    };
    if let Some(m) = size(&u.memory)? {
        res.memory = Some(m);
    }
    if let Some(m) = size(&u.memory_reservation)? {
        res.memory_reservation = Some(m);
    }
    if let Some(s) = &u.memory_swap {
        res.memory_swap = Some(if s == "-1" {
            -1
        } else {
            box_cgroup::parse_size(s)? as i64
        });
    }
    cpu_bandwidth(&mut res, u.cpu_quota, u.cpu_period);
    res.cpu_rt_period = u.cpu_rt_period.or(res.cpu_rt_period);
    res.cpu_rt_runtime = u.cpu_rt_runtime.or(res.cpu_rt_runtime);
    res.cpu_shares = u.cpu_share.or(res.cpu_shares);
    res.cpuset_cpus = u.cpuset_cpus.clone().or(res.cpuset_cpus);
    res.cpuset_mems = u.cpuset_mems.clone().or(res.cpuset_mems);
    res.pids = u.pids_limit.or(res.pids);
    res.io_weight = u.blkio_weight.or(res.io_weight);
    let cg = crate::cgroup::open(&record.spec)?;
    res.validate(&box_cgroup::Layout::detect()?)?;
    cg.apply(&res).context("apply the new limits")?;
    if let Some(cg_spec) = record.spec.cgroup.as_mut() {
        cg_spec.resources = res;
    }
    locked.write(&record)?;
    Ok(0)
}

/// `--cpu-quota` and `--cpu-period` as runc takes them: each replaces its own number (a new
/// period alone keeps the quota's µs), a quota of 0 or less removes the limit.
fn cpu_bandwidth(res: &mut box_cgroup::Resources, quota: Option<i64>, period: Option<u64>) {
    if quota.is_none() && period.is_none() {
        return;
    }
    let old_period = res.cpu_period.unwrap_or(box_cgroup::CPU_PERIOD_US);
    let old_quota = res.cpus.map(|c| (c * old_period as f64).round() as i64);
    let period = period.unwrap_or(old_period);
    let quota = quota.or(old_quota).filter(|&q| q > 0);
    res.cpu_period = Some(period);
    res.cpus = quota.map(|q| q as f64 / period as f64);
}

/// The fields `given` sets replace those of `res`.
fn merge(res: &mut box_cgroup::Resources, given: box_cgroup::Resources) {
    macro_rules! take {
        ($($f:ident),*) => { $( if given.$f.is_some() { res.$f = given.$f.clone(); } )* };
    }
    take!(
        memory,
        memory_swap,
        memory_reservation,
        cpu_rt_runtime,
        cpu_rt_period,
        cpu_shares,
        cpuset_cpus,
        cpuset_mems,
        pids,
        io_weight,
        devices
    );
    // A quota is a fraction of its period: the two go together.
    if given.cpus.is_some() {
        res.cpus = given.cpus;
        res.cpu_period = given.cpu_period;
    } else if given.cpu_period.is_some() {
        cpu_bandwidth(res, None, given.cpu_period);
    }
    for limit in given.hugetlb {
        res.hugetlb.retain(|l| l.page_size != limit.page_size);
        res.hugetlb.push(limit);
    }
    res.rdma.extend(given.rdma);
    res.unified.extend(given.unified);
    for (mine, theirs) in [
        (&mut res.io_read_bps, given.io_read_bps),
        (&mut res.io_write_bps, given.io_write_bps),
        (&mut res.io_read_iops, given.io_read_iops),
        (&mut res.io_write_iops, given.io_write_iops),
    ] {
        if !theirs.is_empty() {
            *mine = theirs;
        }
    }
}
