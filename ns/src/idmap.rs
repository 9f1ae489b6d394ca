use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::sys::stat::Mode;
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};

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
///
/// Each file is opened under `/proc/PID` without following a symlink, and written only once
/// `fstatfs` says it is procfs: whatever is mounted there, nothing but the kernel's file takes
/// the write.
pub fn write_id_maps(
    pid: i32,
    uid_maps: &[IdMap],
    gid_maps: &[IdMap],
    deny_setgroups: bool,
) -> Result<(), Error> {
    let uid_text = IdMap::render(uid_maps)?;
    let gid_text = IdMap::render(gid_maps)?;
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let proc = open_proc(&dir)?;
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        let err = |errno| Error::IdMap {
            path: path.clone(),
            errno,
        };
        let fd = openat(&proc, file, OFlag::O_WRONLY | OFLAGS, Mode::empty()).map_err(err)?;
        check_procfs(&fd, &path)?;
        // The kernel takes a map in one write, whole or not at all.
        match nix::unistd::write(&fd, text.as_bytes()) {
            Ok(n) if n == text.len() => Ok(()),
            Ok(_) => Err(err(Errno::EIO)),
            Err(errno) => Err(err(errno)),
        }
    };
    if deny_setgroups {
        write("setgroups", "deny")?;
    }
    write("uid_map", &uid_text)?;
    write("gid_map", &gid_text)
}

const OFLAGS: OFlag = OFlag::O_NOFOLLOW.union(OFlag::O_CLOEXEC);

/// An `O_PATH` handle on the `/proc/PID` directory.
fn open_proc(path: &Path) -> Result<OwnedFd, Error> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFLAGS;
    let fd = open(path, flags, Mode::empty()).map_err(|errno| Error::IdMap {
        path: path.into(),
        errno,
    })?;
    check_procfs(&fd, path)?;
    Ok(fd)
}

fn check_procfs(fd: &OwnedFd, path: &Path) -> Result<(), Error> {
    let err = |errno| Error::IdMap {
        path: path.into(),
        errno,
    };
    match fstatfs(fd) {
        Ok(fs) if fs.filesystem_type() == PROC_SUPER_MAGIC => Ok(()),
        Ok(_) => Err(err(Errno::EXDEV)),
        Err(errno) => Err(err(errno)),
    }
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
    fn maps_of_a_new_user_namespace_are_written_through_procfs() {
        use crate::{clone_child, CloneOptions, Cloned};
        use nix::sched::CloneFlags;
        assert!(nix::unistd::geteuid().is_root(), "this test runs as root");
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        let opts = CloneOptions {
            flags: CloneFlags::CLONE_NEWUSER,
            into_cgroup: None,
            pidfd: false,
        };
        // SAFETY: the child only blocks in read and calls _exit, both async-signal-safe.
        match unsafe { clone_child(opts) }.unwrap() {
            Cloned::Child => {
                drop(write_end);
                let _ = nix::unistd::read(&read_end, &mut [0u8; 1]);
                // SAFETY: _exit skips the test harness's atexit handlers.
                unsafe { libc::_exit(0) }
            }
            Cloned::Parent { pid, .. } => {
                drop(read_end);
                let map = |outside| IdMap {
                    inside: 0,
                    outside,
                    count: 1000,
                };
                let written = write_id_maps(pid.as_raw(), &[map(200000)], &[map(300000)], true);
                let read = |file| std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
                let (uid, gid, setgroups) = (read("uid_map"), read("gid_map"), read("setgroups"));
                drop(write_end);
                nix::sys::wait::waitpid(pid, None).unwrap();
                written.unwrap();
                let fields = |text: &str| {
                    text.split_whitespace()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                };
                assert_eq!(fields(&uid), ["0", "200000", "1000"]);
                assert_eq!(fields(&gid), ["0", "300000", "1000"]);
                assert_eq!(setgroups.trim(), "deny");
                let err = write_id_maps(pid.as_raw(), &[map(1)], &[map(1)], false).unwrap_err();
                assert!(
                    matches!(
                        err,
                        Error::IdMap {
                            errno: Errno::ENOENT,
                            ..
                        }
                    ),
                    "{err}"
                );
            }
        }
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
