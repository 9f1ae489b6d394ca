//! v1 devices controller: `devices.deny`, `devices.allow` and `devices.list`.
//!
//! Writing `a` to `devices.deny` makes the cgroup deny everything and forgets its rules (the
//! kernel allows this only while the cgroup has no children: a new container's has none);
//! each write to `devices.allow` then adds one exception (one open, a write per rule).
//! `devices.list` shows them in order, or `a *:* rwm` when everything is allowed.

use crate::devices::{normalize, DeviceRule};
use crate::error::Error;
use crate::fs::{self, Dir};

const LIST: &str = "devices.list";

/// Deny everything, allow each rule, then read `devices.list` back and fail unless it is
/// exactly the policy (as runc checks too): a rule the kernel dropped or widened must not
/// go unnoticed.
pub(crate) fn apply(dir: &Dir, rules: &[DeviceRule]) -> Result<(), Error> {
    fs::write(dir, "devices.deny", "a")?;
    // One rule per write; the kernel strips the newline.
    let allows: Vec<String> = rules.iter().map(|r| format!("{r}\n")).collect();
    fs::write_each(dir, "devices.allow", &allows)?;
    let want = normalize(rules);
    let got = read(dir)?;
    if got != want {
        return Err(Error::DevicePolicy {
            path: dir.path().join(LIST),
            want: lines(&want),
            got: lines(&got),
        });
    }
    Ok(())
}

/// The rules of `devices.list`; `[a *:* rwm]` when the cgroup allows everything.
pub(crate) fn read(dir: &Dir) -> Result<Vec<DeviceRule>, Error> {
    let text = fs::read(dir, LIST)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.parse().map_err(|_| fs::parse_err(dir, LIST, &text)))
        .collect()
}

fn lines(rules: &[DeviceRule]) -> String {
    let text: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cat, dir, files};

    #[test]
    fn reads_the_list() {
        let d = tempfile::tempdir().unwrap();
        files(d.path(), &[(LIST, "c 1:3 rwm\nb *:* m\nc 136:* rwm\n")]);
        let text: Vec<String> = read(&dir(d.path()))
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(text, ["c 1:3 rwm", "b *:* m", "c 136:* rwm"]);
        files(d.path(), &[(LIST, "a *:* rwm\n")]);
        assert_eq!(read(&dir(d.path())).unwrap(), [DeviceRule::ALLOW_ALL]);
        files(d.path(), &[(LIST, "")]);
        assert!(read(&dir(d.path())).unwrap().is_empty());
        files(d.path(), &[(LIST, "q 1:3 rwm\n")]);
        assert!(matches!(read(&dir(d.path())), Err(Error::Parse { .. })));
    }

    /// A prepared directory does not act on the writes; what it lists decides.
    #[test]
    fn a_list_that_differs_from_the_policy_fails() {
        let d = tempfile::tempdir().unwrap();
        let rules: Vec<DeviceRule> = ["c 1:3 rwm", "b 7:0 rw"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let empty = [("devices.deny", ""), ("devices.allow", "")];
        files(d.path(), &empty);
        files(d.path(), &[(LIST, "c 1:3 rwm\nb 7:0 rw\n")]);
        apply(&dir(d.path()), &rules).unwrap();
        assert_eq!(cat(d.path(), "devices.deny"), "a");
        assert_eq!(cat(d.path(), "devices.allow"), "c 1:3 rwm\nb 7:0 rw\n");
        files(d.path(), &[(LIST, "a *:* rwm\n")]);
        let err = apply(&dir(d.path()), &rules).unwrap_err().to_string();
        assert!(
            err.ends_with("devices.list shows a *:* rwm, not the policy c 1:3 rwm, b 7:0 rw"),
            "{err}"
        );
    }
}
