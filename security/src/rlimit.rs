//! Resource limits: the 16 Linux resources, checked in the parent, set in the child before the
//! uid change.

use std::fmt;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource as NixResource};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};

/// A Linux resource whose limit can be set (`setrlimit(2)`).
///
/// Named as `docker run --ulimit` names it (`nofile`), or as an OCI config does
/// (`RLIMIT_NOFILE`): see [`Resource::name`], [`Resource::oci_name`], [`Resource::parse`].
/// Serialized with its OCI name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// `RLIMIT_AS`: address space size.
    As,
    /// `RLIMIT_CORE`: core file size.
    Core,
    /// `RLIMIT_CPU`: CPU time, seconds.
    Cpu,
    /// `RLIMIT_DATA`: data segment size.
    Data,
    /// `RLIMIT_FSIZE`: size of files written.
    Fsize,
    /// `RLIMIT_LOCKS`: file locks.
    Locks,
    /// `RLIMIT_MEMLOCK`: locked memory.
    Memlock,
    /// `RLIMIT_MSGQUEUE`: bytes in POSIX message queues.
    Msgqueue,
    /// `RLIMIT_NICE`: ceiling of the nice value.
    Nice,
    /// `RLIMIT_NOFILE`: open file descriptors.
    Nofile,
    /// `RLIMIT_NPROC`: processes of the real uid.
    Nproc,
    /// `RLIMIT_RSS`: resident set size.
    Rss,
    /// `RLIMIT_RTPRIO`: ceiling of the real-time priority.
    Rtprio,
    /// `RLIMIT_RTTIME`: real-time CPU time without a blocking call, microseconds.
    Rttime,
    /// `RLIMIT_SIGPENDING`: queued signals.
    Sigpending,
    /// `RLIMIT_STACK`: stack size.
    Stack,
}

impl Resource {
    /// Every resource, in `docker run --ulimit` name order.
    pub const ALL: [Resource; 16] = [
        Resource::As,
        Resource::Core,
        Resource::Cpu,
        Resource::Data,
        Resource::Fsize,
        Resource::Locks,
        Resource::Memlock,
        Resource::Msgqueue,
        Resource::Nice,
        Resource::Nofile,
        Resource::Nproc,
        Resource::Rss,
        Resource::Rtprio,
        Resource::Rttime,
        Resource::Sigpending,
        Resource::Stack,
    ];

    /// The `docker run --ulimit` name: `nofile`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::As => "as",
            Resource::Core => "core",
            Resource::Cpu => "cpu",
            Resource::Data => "data",
            Resource::Fsize => "fsize",
            Resource::Locks => "locks",
            Resource::Memlock => "memlock",
            Resource::Msgqueue => "msgqueue",
            Resource::Nice => "nice",
            Resource::Nofile => "nofile",
            Resource::Nproc => "nproc",
            Resource::Rss => "rss",
            Resource::Rtprio => "rtprio",
            Resource::Rttime => "rttime",
            Resource::Sigpending => "sigpending",
            Resource::Stack => "stack",
        }
    }

    /// The kernel's and OCI's name: `RLIMIT_NOFILE`.
    pub fn oci_name(self) -> String {
        format!("RLIMIT_{}", self.name().to_ascii_uppercase())
    }

    /// Looks a resource up by name: `nofile`, `NOFILE` and `RLIMIT_NOFILE` are the same.
    pub fn parse(name: &str) -> Option<Resource> {
        let lower = name.trim().to_ascii_lowercase();
        let short = lower.strip_prefix("rlimit_").unwrap_or(&lower);
        Resource::ALL.into_iter().find(|r| r.name() == short)
    }

    fn to_nix(self) -> NixResource {
        match self {
            Resource::As => NixResource::RLIMIT_AS,
            Resource::Core => NixResource::RLIMIT_CORE,
            Resource::Cpu => NixResource::RLIMIT_CPU,
            Resource::Data => NixResource::RLIMIT_DATA,
            Resource::Fsize => NixResource::RLIMIT_FSIZE,
            Resource::Locks => NixResource::RLIMIT_LOCKS,
            Resource::Memlock => NixResource::RLIMIT_MEMLOCK,
            Resource::Msgqueue => NixResource::RLIMIT_MSGQUEUE,
            Resource::Nice => NixResource::RLIMIT_NICE,
            Resource::Nofile => NixResource::RLIMIT_NOFILE,
            Resource::Nproc => NixResource::RLIMIT_NPROC,
            Resource::Rss => NixResource::RLIMIT_RSS,
            Resource::Rtprio => NixResource::RLIMIT_RTPRIO,
            Resource::Rttime => NixResource::RLIMIT_RTTIME,
            Resource::Sigpending => NixResource::RLIMIT_SIGPENDING,
            Resource::Stack => NixResource::RLIMIT_STACK,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.oci_name())
    }
}

impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Resource::parse(&name)
            .ok_or_else(|| de::Error::custom(format!("unknown resource {name:?}")))
    }
}

/// One resource limit, as an OCI config's `process.rlimits[]` gives it. `u64::MAX` means
/// unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// The resource.
    #[serde(rename = "type")]
    pub resource: Resource,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// Validates the configured limits: soft within hard, each resource once. `may_raise_hard`
/// says whether this process could raise a hard limit (CAP_SYS_RESOURCE in the initial user
/// namespace); without it a hard limit above the current one is reported here instead of
/// failing in the child.
pub(crate) fn plan(limits: &[Rlimit], may_raise_hard: bool) -> Result<Vec<Rlimit>> {
    for (index, limit) in limits.iter().enumerate() {
        let invalid = |message: String| Error::InvalidRlimit {
            index,
            name: limit.resource.to_string(),
            message,
        };
        if limit.soft > limit.hard {
            return Err(invalid(format!(
                "soft limit {} is above hard limit {}",
                limit.soft, limit.hard
            )));
        }
        if limits[..index].iter().any(|l| l.resource == limit.resource) {
            return Err(invalid("given more than once".to_string()));
        }
        if !may_raise_hard {
            let (_, current) = getrlimit(limit.resource.to_nix()).map_err(|errno| Error::Sys {
                step: crate::error::Step::HostProbe,
                errno,
            })?;
            if limit.hard > current {
                return Err(Error::RlimitCannotRaise {
                    index,
                    name: limit.resource.to_string(),
                    requested: limit.hard,
                    current,
                });
            }
        }
    }
    Ok(limits.to_vec())
}

/// Sets the limits on the calling process.
pub(crate) fn apply(limits: &[Rlimit]) -> Result<()> {
    for limit in limits {
        let resource = limit.resource.to_nix();
        setrlimit(resource, limit.soft, limit.hard).map_err(|errno: Errno| {
            let current_hard = getrlimit(resource).map(|(_, h)| h).unwrap_or(u64::MAX);
            Error::Setrlimit {
                name: limit.resource.to_string(),
                soft: limit.soft,
                hard: limit.hard,
                current_hard,
                errno,
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(resource: Resource, soft: u64, hard: u64) -> Rlimit {
        Rlimit {
            resource,
            soft,
            hard,
        }
    }

    #[test]
    fn every_name_parses_and_maps_to_its_kernel_resource() {
        for resource in Resource::ALL {
            assert_eq!(Resource::parse(resource.name()), Some(resource));
            assert_eq!(Resource::parse(&resource.oci_name()), Some(resource));
            assert_eq!(
                format!("{:?}", resource.to_nix()),
                resource.oci_name(),
                "{resource}"
            );
        }
        assert_eq!(Resource::parse("NProc"), Some(Resource::Nproc));
        assert_eq!(Resource::Nofile.oci_name(), "RLIMIT_NOFILE");
        assert!(Resource::parse("files").is_none());
        let names: Vec<&str> = Resource::ALL.iter().map(|r| r.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn a_limit_is_an_oci_rlimit_in_json() {
        let l = limit(Resource::Nofile, 1024, 4096);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(json, r#"{"type":"RLIMIT_NOFILE","soft":1024,"hard":4096}"#);
        assert_eq!(serde_json::from_str::<Rlimit>(&json).unwrap(), l);
        let err = serde_json::from_str::<Rlimit>(r#"{"type":"RLIMIT_FILES","soft":1,"hard":1}"#)
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with(r#"unknown resource "RLIMIT_FILES""#));
    }

    #[test]
    fn malformed_limits_are_errors() {
        let err = plan(&[limit(Resource::Nofile, 10, 5)], true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rlimits[0] (nofile): soft limit 10 is above hard limit 5"
        );
        let twice = [
            limit(Resource::Nofile, 1, 2),
            limit(Resource::Core, 0, 0),
            limit(Resource::Nofile, 1, 2),
        ];
        let err = plan(&twice, true).unwrap_err();
        assert_eq!(err.to_string(), "rlimits[2] (nofile): given more than once");
    }

    #[test]
    fn raising_a_hard_limit_without_the_capability_is_reported_up_front() {
        // RLIMIT_NOFILE is never "unlimited": the kernel caps it at fs.nr_open.
        let (_, current) = getrlimit(NixResource::RLIMIT_NOFILE).unwrap();
        let err = plan(&[limit(Resource::Nofile, 1, current + 1)], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "rlimits[0] (nofile): hard limit {} is above the current hard limit {current}, and raising a hard limit needs CAP_SYS_RESOURCE, which box does not have here",
                current + 1
            )
        );
        assert!(plan(&[limit(Resource::Nofile, 1, current)], false).is_ok());
    }
}
