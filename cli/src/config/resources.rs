//! `[resources]`: memory, CPU, cpuset, pids and block IO limits in Docker's units.

use box_cgroup::{parse_size, DeviceLimit};

use super::rootfs::size_bytes;
use super::schema::{self, Size};
use super::to_spec::Ctx;
use super::ConfigError;

/// The most `pids.max` takes: the kernel's PID_MAX_LIMIT on 64-bit (4 Mi); it refuses a
/// larger number with EINVAL (kernel/cgroup/pids.c), in v1 and v2 alike.
const PIDS_MAX: i64 = 4 * 1024 * 1024;

/// `[resources]` → cgroup limits, checked against this host's cgroups, with the layout they
/// were checked against (none when it could not be detected: the start then says why).
pub fn resources(
    c: &Ctx<'_>,
    r: &schema::Resources,
) -> Result<(box_cgroup::Resources, Option<box_cgroup::Layout>), ConfigError> {
    let at = |field: &str, msg: String| c.err(&["resources", field], msg);
    let bytes = |field: &str, s: &Option<Size>| {
        s.as_ref()
            .map(|s| size_bytes(s).map_err(|m| at(field, m)))
            .transpose()
    };
    let swap = match &r.memory_swap {
        Some(Size::Bytes(-1)) => Some(-1),
        other => bytes("memory_swap", other)?.map(|b| b as i64),
    };
    let devices = |field: &str, list: &[String], sized: bool| {
        list.iter()
            .map(|entry| device_limit(entry, sized).map_err(|m| at(field, m)))
            .collect::<Result<Vec<_>, _>>()
    };
    if let Some(p) = r.pids.filter(|p| *p > PIDS_MAX) {
        return Err(at(
            "pids",
            format!("{p}: the kernel's pids.max takes at most {PIDS_MAX}; use -1 for no limit"),
        ));
    }
    let res = box_cgroup::Resources {
        memory: bytes("memory", &r.memory)?,
        memory_swap: swap,
        memory_reservation: bytes("memory_reservation", &r.memory_reservation)?,
        cpus: r.cpus,
        cpu_shares: r.cpu_shares,
        cpuset_cpus: r.cpuset_cpus.clone(),
        cpuset_mems: r.cpuset_mems.clone(),
        pids: r.pids,
        io_weight: r.io_weight,
        io_read_bps: devices("io_read_bps", &r.io_read_bps, true)?,
        io_write_bps: devices("io_write_bps", &r.io_write_bps, true)?,
        io_read_iops: devices("io_read_iops", &r.io_read_iops, false)?,
        io_write_iops: devices("io_write_iops", &r.io_write_iops, false)?,
        // The device policy comes from the top-level `devices` key (see to_spec).
        devices: None,
        // box.toml has no keys for the rest (CPU period, realtime, hugetlb, raw cgroup2 files).
        ..Default::default()
    };
    let layout = box_cgroup::Layout::detect().ok();
    if let Some(layout) = &layout {
        res.validate(layout).map_err(|e| at(e.field, e.message))?;
    }
    Ok((res, layout))
}

/// `"8:0 1m"` → major 8, minor 0, rate 1 MiB (a size for bps, a plain count for iops).
fn device_limit(entry: &str, sized: bool) -> Result<DeviceLimit, String> {
    let bad = || format!("{entry:?} is not \"MAJOR:MINOR RATE\" (e.g. \"8:0 1m\")");
    let (dev, rate) = entry.split_once(' ').ok_or_else(bad)?;
    let (major, minor) = dev.split_once(':').ok_or_else(bad)?;
    let rate = rate.trim();
    let rate = if sized {
        parse_size(rate).map_err(|e| e.to_string())?
    } else {
        rate.parse().map_err(|_| bad())?
    };
    Ok(DeviceLimit {
        major: major.parse().map_err(|_| bad())?,
        minor: minor.parse().map_err(|_| bad())?,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{from_text, plan, Host};

    /// The spec of a one-container file.
    fn spec_of(text: &str) -> box_launcher::Spec {
        let host = Host {
            container_pid: &|_| None,
            images: &|_| Err("no image store here".into()),
            state_dir: &|name| Path::new("/nonexistent/state").join(name),
        };
        let loaded = from_text(Path::new("box.toml"), text.into()).unwrap();
        let mut planned = plan(&loaded, &host).unwrap();
        planned.pop().unwrap().spec
    }

    #[test]
    fn limits_checked_against_the_host_hand_their_layout_to_the_start_and_not_to_the_state() {
        let limited = spec_of("command = [\"/bin/true\"]\n[resources]\nmemory = \"64m\"\n");
        let cgroup = limited.cgroup.as_ref().unwrap();
        let layout = box_cgroup::Layout::detect().expect("this host's cgroup layout");
        assert_eq!(cgroup.layout.as_ref(), Some(&layout));
        let recorded = serde_json::to_value(&limited).unwrap();
        assert!(recorded["cgroup"]["path"].is_string(), "{recorded}");
        assert!(recorded["cgroup"].get("layout").is_none(), "{recorded}");

        let unlimited = spec_of("command = [\"/bin/true\"]\n");
        assert!(
            unlimited.cgroup.unwrap().layout.is_none(),
            "the start detects it"
        );
    }

    /// The same for the security layer's facts: every config is checked against them.
    #[test]
    fn the_security_check_hands_the_hosts_facts_to_the_start_and_not_to_the_state() {
        let spec = spec_of("command = [\"/bin/true\"]\n");
        let probed = box_security::Host::probe().expect("this host's facts");
        assert_eq!(spec.security_host, Some(probed));
        let recorded = serde_json::to_value(&spec).unwrap();
        assert!(recorded.get("security").is_some(), "{recorded}");
        assert!(recorded.get("security_host").is_none(), "{recorded}");
        let back: box_launcher::Spec = serde_json::from_value(recorded).unwrap();
        assert_eq!(back.security_host, None, "a recorded spec probes again");
    }
}
