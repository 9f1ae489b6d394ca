//! mountinfo (see proc(5)): every line parsed into a [`Mount`], and the cgroup mounts this
//! process can see.
//!
//! Public as `box_cgroup::mountinfo`, the one mountinfo reader of box's workspace (its tests
//! and xtask use it too):
//!
//! ```
//! use box_cgroup::mountinfo;
//!
//! let text = "36 35 98:0 /mnt1 /mnt\\040a rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n";
//! let mounts = mountinfo::parse(text)?;
//! assert_eq!(mounts[0].mount_point, std::path::Path::new("/mnt a"));
//! assert_eq!(mounts[0].optional, ["master:1"]);
//! assert_eq!((mounts[0].fstype.as_str(), mounts[0].dev), ("ext3", (98, 0)));
//! # Ok::<(), box_cgroup::Error>(())
//! ```

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::visible::Graph;
use super::Controller;
use crate::error::{errno_of, Error};

/// One line of mountinfo: `id parent major:minor root mount_point options [optional…] -
/// fstype source super_options`. Paths have the kernel's octal escapes (`\040` for a space)
/// undone; the other fields are as the kernel wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The mount's unique id (it may be reused once the mount is gone).
    pub id: u64,
    /// The id of the mount this one sits on (its own id for the root of the namespace).
    pub parent: u64,
    /// `major:minor` of the filesystem.
    pub dev: (u64, u64),
    /// The directory of the filesystem that this mount shows (`/` unless a subtree is
    /// mounted, as by a bind mount).
    pub root: PathBuf,
    /// Where it is mounted, relative to this process's root.
    pub mount_point: PathBuf,
    /// Per-mount options (`rw,nosuid,relatime`).
    pub options: String,
    /// The optional fields: propagation (`shared:N`, `master:N`, `propagate_from:N`,
    /// `unbindable`), in the kernel's order.
    pub optional: Vec<String>,
    /// The filesystem type (`ext4`, `cgroup2`, `fuse.sshfs`).
    pub fstype: String,
    /// The filesystem's source, as the kernel shows it (`/dev/vda`, `tmpfs`, `none`).
    pub source: String,
    /// Per-superblock options (for a v1 cgroup, its controllers).
    pub super_options: String,
}

/// One cgroup or cgroup2 mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    /// `None` for cgroup2; the controllers (maybe none: `name=systemd`) for v1.
    pub v1_controllers: Option<BTreeSet<Controller>>,
    pub mount_point: PathBuf,
    pub root: PathBuf,
    pub dev: (u64, u64),
}

/// The text of this thread's mountinfo (its mount namespace may differ from the process's),
/// or the process's where `/proc/thread-self` does not exist (Linux before 3.17).
pub fn read() -> Result<String, Error> {
    let mut last = None;
    for path in ["/proc/thread-self/mountinfo", "/proc/self/mountinfo"] {
        match read_whole(path) {
            Ok(text) => return Ok(text),
            Err(e) => last = Some((path, errno_of(&e))),
        }
    }
    let (path, errno) = last.unwrap_or(("/proc/self/mountinfo", nix::errno::Errno::ENOENT));
    Err(Error::ReadMountinfo {
        path: PathBuf::from(path),
        errno,
    })
}

/// A `/proc` file, read in few calls: its size reads as 0, so `read_to_string` would start
/// with reads of 32 bytes and double them, and each read of a seq_file lists it again from the
/// start up to where it left off.
fn read_whole(path: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::with_capacity(16 * 1024);
    std::fs::File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// Every cgroup mount that is visible (not mounted over), in mountinfo order.
pub(crate) fn cgroup_mounts(text: &str) -> Result<Vec<CgroupMount>, Error> {
    let mounts = parse(text)?;
    let graph = Graph::new(&mounts);
    let mut out = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        let v1_controllers = match m.fstype.as_str() {
            "cgroup2" => None,
            "cgroup" => Some(
                m.super_options
                    .split(',')
                    .filter_map(Controller::from_v1_name)
                    .collect(),
            ),
            _ => continue,
        };
        if graph.is_visible(i) {
            out.push(CgroupMount {
                v1_controllers,
                mount_point: m.mount_point.clone(),
                root: m.root.clone(),
                dev: m.dev,
            });
        }
    }
    Ok(out)
}

/// Every line of mountinfo `text`, in order (blank lines are skipped). A line that is not
/// mountinfo's format is an error naming it.
pub fn parse(text: &str) -> Result<Vec<Mount>, Error> {
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
        let number = |f: &str| f.parse::<u64>().map_err(|_| bad());
        let (major, minor) = fields[2].split_once(':').ok_or_else(bad)?;
        mounts.push(Mount {
            id: number(fields[0])?,
            parent: number(fields[1])?,
            dev: (number(major)?, number(minor)?),
            root: unescape(fields[3]),
            mount_point: unescape(fields[4]),
            options: fields[5].to_string(),
            optional: fields[6..sep].iter().map(|f| f.to_string()).collect(),
            fstype: fields[sep + 1].to_string(),
            source: fields[sep + 2].to_string(),
            super_options: fields[sep + 3].to_string(),
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
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct\n\
32 25 0:28 / /proc rw - proc proc rw\n";
        let m = cgroup_mounts(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].v1_controllers, None);
        assert_eq!(m[0].dev, (0, 26));
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
    fn parses_every_field() {
        let text = "\
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct\n\
\n\
90 27 8:1 /srv/a\\040b /mnt/x rw - ext4 /dev/sda1 rw,errors=remount-ro\n";
        let m = parse(text).unwrap();
        assert_eq!(
            m[0],
            Mount {
                id: 31,
                parent: 30,
                dev: (0, 27),
                root: "/".into(),
                mount_point: "/sys/fs/cgroup/cpu,cpuacct".into(),
                options: "rw,nosuid".into(),
                optional: vec!["shared:9".into(), "master:2".into()],
                fstype: "cgroup".into(),
                source: "cgroup".into(),
                super_options: "rw,cpu,cpuacct".into(),
            }
        );
        assert_eq!(m.len(), 2, "the blank line is skipped");
        assert_eq!(m[1].root, PathBuf::from("/srv/a b"));
        assert!(m[1].optional.is_empty());
        assert_eq!((m[1].source.as_str(), m[1].dev), ("/dev/sda1", (8, 1)));
    }

    #[test]
    fn malformed_line_is_an_error() {
        let err = cgroup_mounts("1 2 3\n").unwrap_err();
        assert!(matches!(err, Error::Mountinfo { line: 1, .. }));
        let err = cgroup_mounts("x 2 0:1 / / rw - ext4 /dev/sda rw\n").unwrap_err();
        assert!(matches!(err, Error::Mountinfo { line: 1, .. }));
        let err = cgroup_mounts("1 2 01 / / rw - ext4 /dev/sda rw\n").unwrap_err();
        assert!(matches!(err, Error::Mountinfo { line: 1, .. }));
    }
}
