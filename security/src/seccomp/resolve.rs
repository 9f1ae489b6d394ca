//! The plan's naming half: which ABIs a filter covers, whether a rule's names make sense, and
//! the applicable rules numbered for one ABI.

use super::compat::{self, Muxed};
use super::plan::{segment, AbiPlan, Resolved};
use super::{known_anywhere, Arch, Profile, SyscallRule};
use crate::error::{Error, Result};

fn profile_error(profile: &Profile, location: String, message: String) -> Error {
    Error::Profile {
        origin: profile.origin.clone(),
        location,
        message,
    }
}

/// The ABIs the filter covers: the native one, then its compat ABI if the profile lists it
/// (`architectures`, or the native entry of `archMap`). A profile that lists nothing gets the
/// native ABI only, as with libseccomp; one that lists anything must list the native one.
/// Listed ABIs the host runs but box cannot filter (x32) are warned about; listed ABIs this
/// host cannot run are irrelevant, as with libseccomp.
pub(super) fn covered_abis(
    profile: &Profile,
    native: Arch,
    warnings: &mut Vec<String>,
) -> Result<Vec<Arch>> {
    let listed: Vec<&str> = if !profile.architectures.is_empty() {
        profile.architectures.iter().map(String::as_str).collect()
    } else if let Some(entry) = profile
        .arch_map
        .iter()
        .find(|e| e.architecture == native.scmp_name())
    {
        std::iter::once(entry.architecture.as_str())
            .chain(entry.sub_architectures.iter().map(String::as_str))
            .collect()
    } else {
        Vec::new()
    };
    if listed.is_empty() {
        return Ok(vec![native]);
    }
    if !listed.contains(&native.scmp_name()) {
        return Err(profile_error(
            profile,
            "architectures".to_string(),
            format!(
                "the host architecture {} is not listed, so every syscall would be refused",
                native.scmp_name()
            ),
        ));
    }
    let mut abis = vec![native];
    abis.extend(native.compat().filter(|c| listed.contains(&c.scmp_name())));
    let killed: Vec<&str> = native
        .unfiltered()
        .iter()
        .copied()
        .filter(|a| listed.contains(a))
        .collect();
    if !killed.is_empty() {
        let covered: Vec<&str> = abis.iter().map(|a| a.scmp_name()).collect();
        warnings.push(format!(
            "{}: box filters {} but not {}: its syscalls kill the process (SIGSYS) instead of following the profile",
            profile.origin,
            covered.join(" and "),
            killed.join(", "),
        ));
    }
    Ok(abis)
}

/// Checks the rule's names against every covered ABI. A name none of them has is skipped
/// when that cannot let anything through that the profile meant to stop (Docker skips them
/// all); otherwise it is a warning if the name exists elsewhere, and an error if it exists
/// nowhere (a typo must not silently allow what it meant to deny).
pub(super) fn check_names(
    profile: &Profile,
    index: usize,
    rule: &SyscallRule,
    arches: &[Arch],
    warnings: &mut Vec<String>,
) -> Result<()> {
    for (j, name) in rule.names.iter().enumerate() {
        if rule.action.severity() <= profile.default_action.severity()
            || arches.iter().any(|a| compat::exists(*a, name))
        {
            continue;
        }
        if known_anywhere(name) {
            let on: Vec<String> = arches.iter().map(|a| format!("{a:?}")).collect();
            warnings.push(format!(
                "{}: syscalls[{index}]: {name} does not exist on {}; its rule is skipped",
                profile.origin,
                on.join(" or ")
            ));
            continue;
        }
        return Err(profile_error(
            profile,
            format!("syscalls[{index}].names[{j}]"),
            format!("unknown syscall {name:?}: box cannot restrict a syscall it cannot number"),
        ));
    }
    Ok(())
}

/// Numbers the applicable rules for `arch`; names it lacks are left out, as libseccomp does.
pub(super) fn number(
    profile: &Profile,
    rules: &[(usize, &SyscallRule)],
    arch: Arch,
    warnings: &mut Vec<String>,
) -> AbiPlan {
    let mut resolved = Vec::with_capacity(rules.len());
    for &(index, rule) in rules {
        let mut nrs = Vec::with_capacity(rule.names.len());
        let mut muxed = Vec::new();
        for name in &rule.names {
            let (direct, mux) = compat::targets(arch, name);
            nrs.extend(direct);
            if let Some(m) = mux {
                muxed.extend(muxed_rule(profile, index, rule, name, m, warnings));
            }
        }
        if !nrs.is_empty() {
            resolved.push(Resolved {
                action: rule.action,
                nrs,
                conditions: compat::conditions_for(arch, &rule.args),
            });
        }
        resolved.extend(muxed);
    }
    let regular = |nr: &u32| arch.private_base().map_or(true, |base| *nr < base);
    let max_nr = resolved
        .iter()
        .flat_map(|r| r.nrs.iter().copied())
        .filter(regular)
        .max();
    AbiPlan {
        arch,
        max_nr,
        segments: segment(resolved, profile.default_action),
    }
}

/// The rule as it applies to `name` called through a multiplexer, whose arguments are in
/// memory a filter cannot read. Without conditions it is exact (libseccomp's translation);
/// with conditions, a rule stricter than the default covers every such call (stricter than
/// asked, with a warning), and a laxer one none (the call follows the profile's other
/// rules): never laxer than the profile asked.
fn muxed_rule(
    profile: &Profile,
    index: usize,
    rule: &SyscallRule,
    name: &str,
    m: Muxed,
    warnings: &mut Vec<String>,
) -> Option<Resolved> {
    if !rule.args.is_empty() {
        if rule.action.severity() <= profile.default_action.severity() {
            return None;
        }
        warnings.push(format!(
            "{}: syscalls[{index}]: on i386, {name} through {} passes its arguments in memory a filter cannot read, so the rule applies to every such call",
            profile.origin, m.via
        ));
    }
    Some(Resolved {
        action: rule.action,
        nrs: vec![m.nr],
        conditions: vec![m.selector],
    })
}
