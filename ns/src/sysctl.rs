//! Kernel parameters of the container's own namespaces (OCI `linux.sysctl`) and its NIS
//! domain name. `/proc/sys` answers for the namespaces of the process that opens it, so the
//! child writes them through the host's `/proc` once it is in its namespaces, before its root
//! replaces that `/proc` (whose `/proc/sys` is read-only in the container).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;

use crate::{Error, Kind, Mode, NsConfig};

/// The namespace a sysctl belongs to, by runc's and the kernel's rules: only those may be set
/// for a container, and only when that namespace is its own.
fn namespace_of(key: &str) -> Option<Kind> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some(Kind::Ipc)
    } else if key.starts_with("net.") {
        Some(Kind::Net)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some(Kind::Uts)
    } else {
        None
    }
}

/// Refuses a key that is not a namespaced sysctl of a namespace the container has of its own
/// (it would change the host), or that is not a plain dotted name.
pub fn check_sysctls(sysctls: &BTreeMap<String, String>, config: &NsConfig) -> Result<(), Error> {
    for (key, value) in sysctls {
        let bad = |why: String| Error::Sysctl {
            key: key.clone(),
            why,
        };
        let plain = !key.is_empty()
            && key.split(['.', '/']).all(|part| {
                !part.is_empty()
                    && part != ".."
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-+".contains(&b))
            });
        if !plain {
            return Err(bad("not a sysctl name".into()));
        }
        if value.contains('\0') {
            return Err(bad("the value holds a NUL byte".into()));
        }
        match namespace_of(key) {
            None => return Err(bad("not namespaced: it would change the host".into())),
            Some(kind) if *config.mode(kind) == Mode::Host => {
                return Err(bad(format!(
                    "the {} namespace is the host's",
                    kind.proc_name()
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Child, in its namespaces, before its root is built: writes each sysctl to `/proc/sys`.
pub fn write_sysctls(sysctls: &BTreeMap<String, String>) -> Result<(), Error> {
    for (key, value) in sysctls {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let fail = |errno| Error::Sysctl {
            key: key.clone(),
            why: format!("write {path}: {errno}"),
        };
        let errno = |e: std::io::Error| Errno::from_raw(e.raw_os_error().unwrap_or(0));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| fail(errno(e)))?;
        file.write_all(value.as_bytes())
            .map_err(|e| fail(errno(e)))?;
    }
    Ok(())
}

/// Child: the NIS domain name, in a uts namespace of its own.
pub fn set_domainname(name: &str) -> Result<(), Error> {
    // SAFETY: setdomainname reads `len` bytes from the pointer, which the slice provides.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(ret)
        .map(drop)
        .map_err(|errno| Error::Domainname { errno })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(key.to_string(), "1".to_string())])
    }

    #[test]
    fn only_namespaced_sysctls_of_own_namespaces() {
        let own = NsConfig::default();
        for key in [
            "net.ipv4.ping_group_range",
            "kernel.shmmax",
            "fs.mqueue.msg_max",
        ] {
            assert!(check_sysctls(&one(key), &own).is_ok(), "{key}");
        }
        for key in ["kernel.panic", "vm.swappiness", "net/../../x", "", "net..x"] {
            assert!(check_sysctls(&one(key), &own).is_err(), "{key}");
        }
        let mut host_net = NsConfig::default();
        host_net.set(Kind::Net, Mode::Host);
        let err = check_sysctls(&one("net.ipv4.ip_forward"), &host_net).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sysctl net.ipv4.ip_forward: the net namespace is the host's"
        );
    }
}
