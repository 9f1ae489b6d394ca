//! v2 io: `io.bfq.weight` (raw 1..1000) or `io.weight` (converted to 1..10000), `io.max` with
//! one line per device ("8:0 rbps=1048576 wiops=100"), and `io.stat`.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{io_weight_to_v2, DeviceLimit, Resources};
use crate::subsystem::Subsystem;

pub(crate) struct Io;

/// io.max keys in the order of `Resources::io_throttles`.
const KEYS: [&str; 4] = ["rbps", "wbps", "riops", "wiops"];

impl Subsystem for Io {
    fn controller(&self) -> Controller {
        Controller::Io
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_io()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if let Some(w) = res.io_weight {
            if fs::exists(dir, "io.bfq.weight") {
                fs::write(dir, "io.bfq.weight", &w.to_string())?;
            } else {
                fs::write(dir, "io.weight", &io_weight_to_v2(w).to_string())?;
            }
        }
        // All limits of one device in one line.
        let mut per_device: BTreeMap<(u32, u32), String> = BTreeMap::new();
        for ((_, list), key) in res.io_throttles().into_iter().zip(KEYS) {
            for d in list {
                let line = per_device.entry((d.major, d.minor)).or_default();
                line.push_str(&format!(" {key}={}", d.rate));
            }
        }
        for ((major, minor), keys) in per_device {
            fs::write(dir, "io.max", &format!("{major}:{minor}{keys}"))?;
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        for file in ["io.bfq.weight", "io.weight"] {
            if let Some(text) = fs::read_opt(dir, file)? {
                // "default N" then per-device lines; a bare "N" on older bfq.
                let default = text.lines().find_map(|l| match l.split_once(' ') {
                    Some(("default", v)) => v.trim().parse().ok(),
                    None => l.trim().parse().ok(),
                    _ => None,
                });
                out.io_weight = default;
                break;
            }
        }
        if let Some(text) = fs::read_opt(dir, "io.max")? {
            for line in text.lines() {
                let mut words = line.split_whitespace();
                let Some(dev) = words.next() else { continue };
                let (major, minor) = dev
                    .split_once(':')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .ok_or_else(|| fs::parse_err(dir, "io.max", &text))?;
                for kv in words {
                    let Some((k, v)) = kv.split_once('=') else {
                        continue;
                    };
                    let Ok(rate) = v.parse() else { continue }; // "max"
                    let list = match k {
                        "rbps" => &mut out.io_read_bps,
                        "wbps" => &mut out.io_write_bps,
                        "riops" => &mut out.io_read_iops,
                        "wiops" => &mut out.io_write_iops,
                        _ => continue,
                    };
                    list.push(DeviceLimit { major, minor, rate });
                }
            }
        }
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        if let Some(text) = fs::read_opt(dir, "io.stat")? {
            let sum = |key: &str| {
                text.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .filter(|(k, _)| *k == key)
                    .filter_map(|(_, v)| v.parse::<u64>().ok())
                    .sum::<u64>()
            };
            out.io_read_bytes = Some(sum("rbytes"));
            out.io_write_bytes = Some(sum("wbytes"));
        }
        Ok(())
    }
}
