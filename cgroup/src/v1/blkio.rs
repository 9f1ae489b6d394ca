//! v1 blkio: weight (`blkio.weight`, or `blkio.bfq.weight` on kernels whose only
//! proportional scheduler is BFQ), per-device throttles, and bytes read/written.

use crate::error::Error;
use crate::fs::{self, Dir};
use crate::layout::Controller;
use crate::report::{Limits, Stats};
use crate::resources::{DeviceLimit, Resources};
use crate::subsystem::Subsystem;

pub(crate) struct Blkio;

const WEIGHT_FILES: [&str; 2] = ["blkio.weight", "blkio.bfq.weight"];
/// Throttle files in the order of `Resources::io_throttles`.
const THROTTLE_FILES: [&str; 4] = [
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
];

impl Subsystem for Blkio {
    fn controller(&self) -> Controller {
        Controller::Io
    }

    fn wanted(&self, res: &Resources) -> bool {
        res.wants_io()
    }

    fn apply(&self, dir: &Dir, res: &Resources) -> Result<(), Error> {
        if let Some(w) = res.io_weight {
            let file = WEIGHT_FILES
                .into_iter()
                .find(|f| fs::exists(dir, f))
                .ok_or_else(|| Error::Unsupported {
                    field: "io_weight",
                    reason: format!(
                        "neither blkio.weight nor blkio.bfq.weight exists in {} (no CFQ/BFQ IO scheduler)",
                        dir.display()
                    ),
                })?;
            fs::write(dir, file, &w.to_string())?;
        }
        for ((_, list), file) in res.io_throttles().into_iter().zip(THROTTLE_FILES) {
            // One device per write: the kernel parses a single "major:minor rate" line.
            for d in list {
                fs::write(dir, file, &format!("{}:{} {}", d.major, d.minor, d.rate))?;
            }
        }
        Ok(())
    }

    fn read_limits(&self, dir: &Dir, out: &mut Limits) -> Result<(), Error> {
        for file in WEIGHT_FILES {
            if let Some(text) = fs::read_opt(dir, file)? {
                // bfq shows "default N" on some kernels, a bare "N" on others.
                out.io_weight = text.split_whitespace().last().and_then(|w| w.parse().ok());
                break;
            }
        }
        let outs = [
            &mut out.io_read_bps,
            &mut out.io_write_bps,
            &mut out.io_read_iops,
            &mut out.io_write_iops,
        ];
        for (file, list) in THROTTLE_FILES.into_iter().zip(outs) {
            if let Some(text) = fs::read_opt(dir, file)? {
                *list = parse_device_lines(&text).ok_or_else(|| fs::parse_err(dir, file, &text))?;
            }
        }
        Ok(())
    }

    fn stats(&self, dir: &Dir, out: &mut Stats) -> Result<(), Error> {
        let file = "blkio.throttle.io_service_bytes_recursive";
        if let Some(text) = fs::read_opt(dir, file)? {
            let sum = |op: &str| {
                text.lines()
                    .filter_map(|l| {
                        let mut it = l.split_whitespace();
                        let (_dev, o, v) = (it.next()?, it.next()?, it.next()?);
                        (o == op).then(|| v.parse::<u64>().ok()).flatten()
                    })
                    .sum::<u64>()
            };
            out.io_read_bytes = Some(sum("Read"));
            out.io_write_bytes = Some(sum("Write"));
        }
        Ok(())
    }
}

/// "8:0 1048576" lines.
fn parse_device_lines(text: &str) -> Option<Vec<DeviceLimit>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (dev, rate) = l.trim().split_once(' ')?;
            let (major, minor) = dev.split_once(':')?;
            Some(DeviceLimit {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                rate: rate.trim().parse().ok()?,
            })
        })
        .collect()
}
