//! Resource limits: names as `docker run --ulimit` spells them, checked in the parent, set in
//! the child before the uid change.

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::config::Rlimit;
use crate::error::{Error, Result};

/// Every resource box knows, by its Docker `--ulimit` name.
const RESOURCES: [(&str, Resource); 16] = [
    ("as", Resource::RLIMIT_AS),
    ("core", Resource::RLIMIT_CORE),
    ("cpu", Resource::RLIMIT_CPU),
    ("data", Resource::RLIMIT_DATA),
    ("fsize", Resource::RLIMIT_FSIZE),
    ("locks", Resource::RLIMIT_LOCKS),
    ("memlock", Resource::RLIMIT_MEMLOCK),
    ("msgqueue", Resource::RLIMIT_MSGQUEUE),
    ("nice", Resource::RLIMIT_NICE),
    ("nofile", Resource::RLIMIT_NOFILE),
    ("nproc", Resource::RLIMIT_NPROC),
    ("rss", Resource::RLIMIT_RSS),
    ("rtprio", Resource::RLIMIT_RTPRIO),
    ("rttime", Resource::RLIMIT_RTTIME),
    ("sigpending", Resource::RLIMIT_SIGPENDING),
    ("stack", Resource::RLIMIT_STACK),
];

/// One limit ready to be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RlimitPlan {
    pub(crate) name: &'static str,
    pub(crate) resource: Resource,
    pub(crate) soft: u64,
    pub(crate) hard: u64,
}

/// Looks a resource up by name: `nofile`, `NOFILE` and `RLIMIT_NOFILE` are the same.
pub fn parse_rlimit_name(name: &str) -> Option<(&'static str, Resource)> {
    let lower = name.trim().to_ascii_lowercase();
    let short = lower.strip_prefix("rlimit_").unwrap_or(&lower);
    RESOURCES.iter().find(|(n, _)| *n == short).copied()
}

/// Validates the configured limits. `may_raise_hard` says whether this process could raise a
/// hard limit (CAP_SYS_RESOURCE in the initial user namespace); without it a hard limit above
/// the current one is reported here instead of failing in the child.
pub(crate) fn plan(limits: &[Rlimit], may_raise_hard: bool) -> Result<Vec<RlimitPlan>> {
    let mut plans: Vec<RlimitPlan> = Vec::with_capacity(limits.len());
    for (index, limit) in limits.iter().enumerate() {
        let (name, resource) =
            parse_rlimit_name(&limit.resource).ok_or_else(|| Error::UnknownRlimit {
                index,
                name: limit.resource.clone(),
                known: RESOURCES.map(|(n, _)| n).join(", "),
            })?;
        let invalid = |message: String| Error::InvalidRlimit {
            index,
            name: name.to_string(),
            message,
        };
        if limit.soft > limit.hard {
            return Err(invalid(format!(
                "soft limit {} is above hard limit {}",
                limit.soft, limit.hard
            )));
        }
        if plans.iter().any(|p| p.name == name) {
            return Err(invalid("given more than once".to_string()));
        }
        if !may_raise_hard {
            let (_, current) = getrlimit(resource).map_err(|errno| Error::Sys {
                step: crate::error::Step::HostProbe,
                errno,
            })?;
            if limit.hard > current {
                return Err(Error::RlimitCannotRaise {
                    index,
                    name: name.to_string(),
                    requested: limit.hard,
                    current,
                });
            }
        }
        plans.push(RlimitPlan {
            name,
            resource,
            soft: limit.soft,
            hard: limit.hard,
        });
    }
    Ok(plans)
}

/// Sets the limits on the calling process.
pub(crate) fn apply(plans: &[RlimitPlan]) -> Result<()> {
    for plan in plans {
        setrlimit(plan.resource, plan.soft, plan.hard).map_err(|errno: Errno| {
            let current_hard = getrlimit(plan.resource).map(|(_, h)| h).unwrap_or(u64::MAX);
            Error::Setrlimit {
                name: plan.name.to_string(),
                soft: plan.soft,
                hard: plan.hard,
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

    fn limit(resource: &str, soft: u64, hard: u64) -> Rlimit {
        Rlimit {
            resource: resource.to_string(),
            soft,
            hard,
        }
    }

    #[test]
    fn all_docker_names_parse() {
        for name in [
            "nofile",
            "nproc",
            "core",
            "memlock",
            "stack",
            "cpu",
            "fsize",
            "as",
            "locks",
            "sigpending",
            "msgqueue",
            "nice",
            "rtprio",
            "rttime",
            "data",
            "rss",
        ] {
            assert_eq!(parse_rlimit_name(name).map(|(n, _)| n), Some(name));
        }
        assert_eq!(
            parse_rlimit_name("RLIMIT_NOFILE").map(|(_, r)| r),
            Some(Resource::RLIMIT_NOFILE)
        );
        assert_eq!(parse_rlimit_name("NProc").map(|(n, _)| n), Some("nproc"));
        assert!(parse_rlimit_name("files").is_none());
    }

    #[test]
    fn unknown_and_malformed_limits_are_errors() {
        let err = plan(&[limit("nofile", 1, 2), limit("open_files", 1, 2)], true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"rlimits[1]: unknown resource "open_files""#),
            "{err}"
        );
        let err = plan(&[limit("nofile", 10, 5)], true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rlimits[0] (nofile): soft limit 10 is above hard limit 5"
        );
        let err = plan(&[limit("nofile", 1, 2), limit("RLIMIT_NOFILE", 1, 2)], true).unwrap_err();
        assert_eq!(err.to_string(), "rlimits[1] (nofile): given more than once");
    }

    #[test]
    fn raising_a_hard_limit_without_the_capability_is_reported_up_front() {
        // RLIMIT_NOFILE is never "unlimited": the kernel caps it at fs.nr_open.
        let (_, current) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let err = plan(&[limit("nofile", 1, current + 1)], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "rlimits[0] (nofile): hard limit {} is above the current hard limit {current}, and raising a hard limit needs CAP_SYS_RESOURCE, which box does not have here",
                current + 1
            )
        );
        assert!(plan(&[limit("nofile", 1, current)], false).is_ok());
    }
}
