//! `linux.resources` → the cgroup layer's [`Resources`] (also what `update -r` reads).

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources, LinuxThrottleDevice};

use box_cgroup::{
    DeviceAccess, DeviceKind, DeviceLimit, DeviceRule, HugetlbLimit, RdmaLimit, Resources,
    CPU_PERIOD_US, DEFAULT_DEVICE_RULES,
};

use super::{invalid, unsupported, ConvertError};

/// Converts `r`; `at` names it in errors (`linux.resources`).
pub fn resources(r: &LinuxResources, at: &str) -> Result<Resources, ConvertError> {
    let field = |name: &str| format!("{at}.{name}");
    let mut out = Resources::default();
    if let Some(m) = r.memory() {
        let positive = |v: Option<i64>, name: &str| -> Result<Option<u64>, ConvertError> {
            match v {
                None => Ok(None),
                // -1 is "unlimited", as the kernel's default.
                Some(-1) => Ok(None),
                Some(v) => u64::try_from(v)
                    .map(Some)
                    .map_err(|_| invalid(&field(name), format!("{v} is negative"))),
            }
        };
        out.memory = positive(m.limit(), "memory.limit")?;
        out.memory_reservation = positive(m.reservation(), "memory.reservation")?;
        out.memory_swap = m.swap();
        for (name, set) in [
            ("memory.kernel", m.kernel().is_some()),
            ("memory.kernelTCP", m.kernel_tcp().is_some()),
        ] {
            if set {
                return Err(unsupported(
                    &field(name),
                    "kernel memory limits are gone from Linux",
                ));
            }
        }
        if m.swappiness().is_some_and(|s| s <= 100) {
            return Err(unsupported(
                &field("memory.swappiness"),
                "box sets no swappiness",
            ));
        }
        if m.use_hierarchy() == Some(false) {
            return Err(unsupported(
                &field("memory.useHierarchy"),
                "hierarchical accounting is the only mode of cgroup2 and of current kernels",
            ));
        }
        if m.check_before_update() == Some(true) {
            return Err(unsupported(
                &field("memory.checkBeforeUpdate"),
                "box does not compare the usage with a new limit before it writes it",
            ));
        }
        if m.disable_oom_killer() == Some(true) {
            return Err(unsupported(
                &field("memory.disableOOMKiller"),
                "box keeps the OOM killer on",
            ));
        }
    }
    if let Some(cpu) = r.cpu() {
        out.cpu_shares = cpu.shares().filter(|&s| s > 0);
        out.cpu_period = cpu.period().filter(|&p| p > 0);
        if let Some(q) = cpu.quota().filter(|&q| q > 0) {
            out.cpus = Some(q as f64 / out.cpu_period.unwrap_or(CPU_PERIOD_US) as f64);
        }
        out.cpu_rt_runtime = cpu.realtime_runtime().filter(|&v| v != 0);
        out.cpu_rt_period = cpu.realtime_period().filter(|&v| v != 0);
        for (name, set) in [
            ("cpu.idle", cpu.idle().is_some_and(|v| v != 0)),
            ("cpu.burst", cpu.burst().is_some_and(|v| v != 0)),
        ] {
            if set {
                return Err(unsupported(&field(name), "box sets no such CPU limit"));
            }
        }
        out.cpuset_cpus = cpu.cpus().clone().filter(|c| !c.is_empty());
        out.cpuset_mems = cpu.mems().clone().filter(|m| !m.is_empty());
    }
    if let Some(pids) = r.pids() {
        out.pids = Some(if pids.limit() <= 0 { -1 } else { pids.limit() });
    }
    if let Some(io) = r.block_io() {
        out.io_weight = io.weight().filter(|&w| w > 0);
        if io.leaf_weight().is_some_and(|w| w > 0) {
            return Err(unsupported(
                &field("blockIO.leafWeight"),
                "gone from Linux (CFQ)",
            ));
        }
        if io.weight_device().as_ref().is_some_and(|d| !d.is_empty()) {
            return Err(unsupported(
                &field("blockIO.weightDevice"),
                "box sets one weight for every device",
            ));
        }
        let limits = |list: &Option<Vec<LinuxThrottleDevice>>, name: &str| {
            list.clone()
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    let n = |v: i64| {
                        u32::try_from(v).map_err(|_| invalid(&field(name), "bad device number"))
                    };
                    Ok(DeviceLimit {
                        major: n(d.major())?,
                        minor: n(d.minor())?,
                        rate: d.rate(),
                    })
                })
                .collect::<Result<Vec<_>, ConvertError>>()
        };
        out.io_read_bps = limits(
            io.throttle_read_bps_device(),
            "blockIO.throttleReadBpsDevice",
        )?;
        out.io_write_bps = limits(
            io.throttle_write_bps_device(),
            "blockIO.throttleWriteBpsDevice",
        )?;
        out.io_read_iops = limits(
            io.throttle_read_iops_device(),
            "blockIO.throttleReadIOPSDevice",
        )?;
        out.io_write_iops = limits(
            io.throttle_write_iops_device(),
            "blockIO.throttleWriteIOPSDevice",
        )?;
    }
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let limit = u64::try_from(h.limit()).map_err(|_| {
            invalid(
                &field(&format!("hugepageLimits[{i}].limit")),
                format!("{} is negative", h.limit()),
            )
        })?;
        out.hugetlb.push(HugetlbLimit {
            page_size: h.page_size().clone(),
            limit,
        });
    }
    if r.network().is_some() {
        return Err(unsupported(
            &field("network"),
            "box sets no net_cls/net_prio",
        ));
    }
    for (device, l) in r.rdma().iter().flatten() {
        let limit = RdmaLimit {
            hca_handles: l.hca_handles(),
            hca_objects: l.hca_objects(),
        };
        out.rdma.insert(device.clone(), limit);
    }
    for (key, value) in r.unified().iter().flatten() {
        out.unified.insert(key.clone(), value.clone());
    }
    if let Some(rules) = r.devices() {
        out.devices = device_policy(rules, &field("devices"))?;
    }
    Ok(out)
}

/// OCI's device rules are applied in order over "everything allowed". box's policy is an
/// allowlist: a deny of everything, then allows. A deny of one device that nothing allowed
/// before is already in force; one that would punch a hole in "allow all" cannot be said.
fn device_policy(
    rules: &[LinuxDeviceCgroup],
    at: &str,
) -> Result<Option<Vec<DeviceRule>>, ConvertError> {
    let mut policy: Option<Vec<DeviceRule>> = None;
    for (i, r) in rules.iter().enumerate() {
        let field = format!("{at}[{i}]");
        let rule = device_rule(r).map_err(|why| invalid(&field, why))?;
        let everything = rule.kind == DeviceKind::All && rule.access == DeviceAccess::RWM;
        match (r.allow(), &mut policy) {
            (false, _) if everything => policy = Some(Vec::new()),
            (false, Some(list)) => list.retain(|allowed| *allowed != rule),
            (false, None) => {
                return Err(unsupported(
                    &field,
                    "a deny with everything allowed: box's device policy is an allowlist",
                ))
            }
            (true, Some(list)) => list.push(rule),
            (true, None) => {}
        }
    }
    // The nodes box makes in every /dev (null, zero, full, random, urandom, tty, ptmx,
    // pts) stay usable, as runc keeps its default devices usable.
    Ok(policy.map(|mut list| {
        list.extend(&DEFAULT_DEVICE_RULES[2..]);
        list
    }))
}

fn device_rule(r: &LinuxDeviceCgroup) -> Result<DeviceRule, String> {
    let kind = match r.typ() {
        None => "a",
        Some(t) => match serde_json::to_value(t)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .as_deref()
        {
            Some("a") => "a",
            Some("c") | Some("u") => "c",
            Some("b") => "b",
            other => return Err(format!("device type {other:?}")),
        },
    };
    let number = |n: Option<i64>| match n {
        None | Some(-1) => "*".to_string(),
        Some(n) => n.to_string(),
    };
    let access = r.access().clone().unwrap_or_else(|| "rwm".into());
    let text = if kind == "a" {
        format!("a *:* {access}")
    } else {
        format!(
            "{kind} {}:{} {access}",
            number(r.major()),
            number(r.minor())
        )
    };
    text.parse()
}
