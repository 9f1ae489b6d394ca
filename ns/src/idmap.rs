use std::path::PathBuf;

use nix::errno::Errno;

use crate::Error;

/// One line of a `uid_map`/`gid_map`: ids `inside..inside+count` in the user namespace are
/// `outside..outside+count` outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

impl IdMap {
    /// The kernel's format: all lines in one buffer, which must be written in one `write`.
    fn render(maps: &[IdMap]) -> Result<String, Error> {
        if maps.is_empty() || maps.len() > 340 {
            return Err(Error::InvalidIdMap(format!(
                "{} lines (the kernel takes 1 to 340)",
                maps.len()
            )));
        }
        let mut out = String::new();
        for m in maps {
            if m.count == 0 || m.inside.checked_add(m.count - 1).is_none() {
                return Err(Error::InvalidIdMap(format!(
                    "{} {} {}",
                    m.inside, m.outside, m.count
                )));
            }
            out.push_str(&format!("{} {} {}\n", m.inside, m.outside, m.count));
        }
        Ok(out)
    }
}

/// Writes the uid and gid maps of the user namespace that process `pid` is in. With
/// `deny_setgroups` it first writes `deny` to `setgroups`, which the kernel requires before an
/// unprivileged process may write a `gid_map`.
pub fn write_id_maps(
    pid: i32,
    uid_maps: &[IdMap],
    gid_maps: &[IdMap],
    deny_setgroups: bool,
) -> Result<(), Error> {
    let write = |file: &str, text: &str| {
        let path = PathBuf::from(format!("/proc/{pid}/{file}"));
        std::fs::write(&path, text).map_err(|e| Error::IdMap {
            path,
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })
    };
    let uid_text = IdMap::render(uid_maps)?;
    let gid_text = IdMap::render(gid_maps)?;
    if deny_setgroups {
        write("setgroups", "deny")?;
    }
    write("uid_map", &uid_text)?;
    write("gid_map", &gid_text)
}

/// In a new user namespace whose maps are written: becomes its root (uid and gid 0), so that
/// files the process creates belong to the mapped root. Until then the process runs as the
/// host ids it was cloned with, which have no mapping inside, and the kernel refuses to create
/// files as them (`EOVERFLOW`).
pub fn become_root() -> Result<(), Error> {
    let root_gid = nix::unistd::Gid::from_raw(0);
    let root_uid = nix::unistd::Uid::from_raw(0);
    nix::unistd::setresgid(root_gid, root_gid, root_gid).map_err(|errno| Error::BecomeRoot {
        step: "setresgid(0, 0, 0)",
        errno,
    })?;
    nix::unistd::setresuid(root_uid, root_uid, root_uid).map_err(|errno| Error::BecomeRoot {
        step: "setresuid(0, 0, 0)",
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_lines() {
        let maps = [
            IdMap {
                inside: 0,
                outside: 100000,
                count: 65536,
            },
            IdMap {
                inside: 65536,
                outside: 1000,
                count: 1,
            },
        ];
        assert_eq!(
            IdMap::render(&maps).unwrap(),
            "0 100000 65536\n65536 1000 1\n"
        );
    }

    #[test]
    fn rejects_empty_and_overflowing_maps() {
        assert!(IdMap::render(&[]).is_err());
        let overflow = IdMap {
            inside: u32::MAX,
            outside: 0,
            count: 2,
        };
        assert!(IdMap::render(&[overflow]).is_err());
    }
}
