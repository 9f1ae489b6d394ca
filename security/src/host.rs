//! Facts about the host — the process that starts containers — that a configuration is
//! checked against.

use std::path::Path;

use crate::capabilities::CapSet;
use crate::error::{caps_error, Error, Result, Step};
use crate::seccomp::KernelVersion;

/// The calling thread's bounding set: every capability a process it starts can ever have.
/// [`crate::Capabilities::docker`] takes it.
pub fn host_bounding_set() -> Result<CapSet> {
    let mut bounding = CapSet::EMPTY;
    for cap in caps::all() {
        if caps::has_cap(None, caps::CapSet::Bounding, cap).map_err(caps_error(Step::HostProbe))? {
            bounding.insert(cap);
        }
    }
    Ok(bounding)
}

/// What `prepare` checks a configuration against.
pub(crate) struct Host {
    /// The highest capability number this kernel has (`cap_last_cap`, at most 63).
    pub(crate) last_cap: u8,
    pub(crate) bounding: CapSet,
    pub(crate) effective: CapSet,
    pub(crate) kernel: KernelVersion,
}

impl Host {
    pub(crate) fn probe() -> Result<Host> {
        let path = Path::new("/proc/sys/kernel/cap_last_cap");
        let text = std::fs::read_to_string(path).map_err(|source| Error::HostRead {
            path: path.to_path_buf(),
            source,
        })?;
        let last_cap: u8 = text.trim().parse().map_err(|_| Error::HostRead {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unparsable {text:?}"),
            ),
        })?;
        let effective = caps::read(None, caps::CapSet::Effective)
            .map_err(caps_error(Step::HostProbe))?
            .into_iter()
            .collect();
        Ok(Host {
            last_cap: last_cap.min(63),
            bounding: host_bounding_set()?,
            effective,
            kernel: KernelVersion::running()?,
        })
    }
}
