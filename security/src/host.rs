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

/// The facts of this host that a configuration is checked against: the highest capability
/// number, the calling thread's bounding and effective sets, the kernel's version.
/// [`check`](crate::check) and [`prepare`](crate::prepare) probe them each time; a front end
/// that checks a configuration and then starts it probes once and hands the same `Host` to
/// [`check_on`](crate::check_on) and [`prepare_on`](crate::prepare_on) (81 `prctl`s, a read
/// and a `uname` fewer). Probe again after the thread drops capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// The highest capability number this kernel has (`cap_last_cap`, at most 63).
    pub(crate) last_cap: u8,
    pub(crate) bounding: CapSet,
    pub(crate) effective: CapSet,
    pub(crate) kernel: KernelVersion,
}

impl Host {
    /// Reads the facts from the kernel.
    pub fn probe() -> Result<Host> {
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

    /// The bounding set, as [`host_bounding_set`] reads it.
    pub fn bounding(&self) -> CapSet {
        self.bounding
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check_on, prepare_on, Capability, Error, SeccompConfig, SecurityConfig};

    /// `check_on` and `prepare_on` judge by the facts they are given, not by a new probe.
    #[test]
    fn the_facts_handed_over_are_the_ones_checked_against() {
        let probed = Host::probe().unwrap();
        let cfg = SecurityConfig {
            seccomp: SeccompConfig::Unconfined,
            ..SecurityConfig::default()
        };
        assert!(check_on(&cfg, &probed).is_ok());
        let mut narrower = probed;
        narrower.bounding.remove(Capability::CAP_CHOWN);
        for refused in [
            check_on(&cfg, &narrower).map(drop),
            prepare_on(&cfg, &narrower).map(drop),
        ] {
            assert!(
                matches!(&refused, Err(Error::CapabilityNotInHost { name, .. }) if name == "CAP_CHOWN"),
                "{refused:?}"
            );
        }
    }
}
