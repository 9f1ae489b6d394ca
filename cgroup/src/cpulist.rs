//! The kernel's list format for CPUs and memory nodes: `0-3,5,7-8` (see cpuset(7)).

use std::collections::BTreeSet;

/// The most members a list may have: far above any machine's CPUs or memory nodes (the
/// kernel's NR_CPUS is at most 8192), and a bound on the memory a hostile list can take.
const MAX_MEMBERS: usize = 65_536;

/// Parse a list into its members. An empty (or blank) list is the empty set.
pub(crate) fn parse(list: &str) -> Result<BTreeSet<u32>, String> {
    let mut set = BTreeSet::new();
    let list = list.trim();
    if list.is_empty() {
        return Ok(set);
    }
    for part in list.split(',') {
        let part = part.trim();
        let num = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("{part:?} is not a number or a range like 0-3"))
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (num(lo)?, num(hi)?);
                if lo > hi {
                    return Err(format!("range {part:?} goes backwards"));
                }
                if hi - lo >= MAX_MEMBERS as u32 {
                    return Err(format!("range {part:?} is too large"));
                }
                set.extend(lo..=hi);
                if set.len() > MAX_MEMBERS {
                    return Err(format!("more than {MAX_MEMBERS} members"));
                }
            }
            None => {
                set.insert(num(part)?);
            }
        }
    }
    Ok(set)
}

/// Format a set back into the kernel's list format (`0-2,5`).
pub(crate) fn format(set: &BTreeSet<u32>) -> String {
    let mut parts = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        // u32::MAX has no successor: it ends its range.
        while end
            .checked_add(1)
            .is_some_and(|next| iter.peek() == Some(&next))
        {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(parse("0-1,3").unwrap(), [0, 1, 3].into());
        assert_eq!(parse("2").unwrap(), [2].into());
        assert_eq!(parse("\n").unwrap(), BTreeSet::new());
        assert_eq!(parse("0-3,2-5\n").unwrap(), (0..=5).collect());
        for bad in ["a", "1-", "3-1", "1,,2", "-1", "0-99999999"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_ranges() {
        assert_eq!(format(&[0, 1, 2, 5, 7, 8].into()), "0-2,5,7-8");
        assert_eq!(format(&BTreeSet::new()), "");
        assert_eq!(
            format(&[u32::MAX - 1, u32::MAX].into()),
            "4294967294-4294967295"
        );
        assert_eq!(format(&[u32::MAX].into()), "4294967295");
    }

    #[test]
    fn lists_stay_small() {
        assert_eq!(parse("0-65535").unwrap().len(), 65_536);
        assert!(parse("0-65536").is_err());
        let many: Vec<String> = (0..3)
            .map(|i| format!("{}-{}", i * 40_000, i * 40_000 + 39_999))
            .collect();
        assert!(parse(&many.join(",")).is_err(), "120000 members in all");
    }
}
