//! The cgroup lines of `/proc/self/mountinfo` (see proc(5)).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::Controller;
use crate::error::Error;

/// One cgroup or cgroup2 mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    /// `None` for cgroup2; the controllers (maybe none: `name=systemd`) for v1.
    pub v1_controllers: Option<BTreeSet<Controller>>,
    pub mount_point: PathBuf,
    /// The directory of the hierarchy that this mount shows (`/` unless a subtree is mounted).
    pub root: PathBuf,
}

/// Every cgroup mount, in mountinfo order.
pub(crate) fn cgroup_mounts(text: &str) -> Result<Vec<CgroupMount>, Error> {
    let mut mounts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || Error::Mountinfo {
            line: i + 1,
            text: line.to_string(),
        };
        // id parent major:minor root mount_point options [optional…] - fstype source superopts
        let fields: Vec<&str> = line.split(' ').collect();
        let sep = fields.iter().position(|f| *f == "-").ok_or_else(bad)?;
        if sep < 6 || fields.len() < sep + 4 {
            return Err(bad());
        }
        let fstype = fields[sep + 1];
        let v1_controllers = match fstype {
            "cgroup2" => None,
            "cgroup" => Some(
                fields[sep + 3]
                    .split(',')
                    .filter_map(Controller::from_v1_name)
                    .collect(),
            ),
            _ => continue,
        };
        mounts.push(CgroupMount {
            v1_controllers,
            mount_point: unescape(fields[4]),
            root: unescape(fields[3]),
        });
    }
    Ok(mounts)
}

/// Undo the kernel's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    PathBuf::from(OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_octal() {
        assert_eq!(unescape(r"/mnt/a\040b"), PathBuf::from("/mnt/a b"));
        assert_eq!(unescape(r"/x\134y"), PathBuf::from(r"/x\y"));
        assert_eq!(unescape(r"/tail\04"), PathBuf::from(r"/tail\04"));
        assert_eq!(unescape("/plain"), PathBuf::from("/plain"));
    }

    #[test]
    fn optional_fields_and_other_filesystems() {
        let text = "\
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - cgroup2 cgroup2 rw,nsdelegate\n\
31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct\n\
32 25 0:28 / /proc rw - proc proc rw\n";
        let m = cgroup_mounts(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].v1_controllers, None);
        assert_eq!(
            m[1].v1_controllers,
            Some([Controller::Cpu, Controller::Cpuacct].into())
        );
        assert_eq!(
            m[1].mount_point,
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
    }

    #[test]
    fn malformed_line_is_an_error() {
        let err = cgroup_mounts("1 2 3\n").unwrap_err();
        assert!(matches!(err, Error::Mountinfo { line: 1, .. }));
    }
}
