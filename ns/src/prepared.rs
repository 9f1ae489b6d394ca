//! The namespace layer's part in starting a container, in the shape every box layer has:
//! [`prepare`] in the parent before the clone (everything that can fail without creating
//! anything: here, opening and type-checking the namespaces to join), then steps of the
//! [`Prepared`] value in the parent after the clone (the uid/gid maps) and in the child after
//! it was told to go (joins, root of the user namespace, cgroup namespace, hostname).

use nix::sched::{unshare, CloneFlags};
use nix::unistd::{sethostname, Pid};

use crate::{become_root, write_id_maps, Error, IdMap, Joins, Kind, Mode, NsConfig};

/// What [`prepare`] refuses, for a front end validating a configuration: every namespace to
/// join opens and is of its kind. Nothing is kept open.
pub fn check(config: &NsConfig) -> Result<(), Error> {
    Joins::open(config).map(drop)
}

/// Opens what `config` joins; nothing is created.
pub fn prepare(config: &NsConfig) -> Result<Prepared, Error> {
    Ok(Prepared {
        config: config.clone(),
        joins: Joins::open(config)?,
    })
}

/// A container's namespaces, ready to be cloned into and entered.
#[derive(Debug)]
pub struct Prepared {
    config: NsConfig,
    joins: Joins,
}

impl Prepared {
    /// How `kind` is configured.
    pub fn mode(&self, kind: Kind) -> &Mode {
        self.config.mode(kind)
    }

    /// The flags to clone with: every new kind but the cgroup namespace, which the child
    /// unshares itself once it is in its cgroup ([`Prepared::unshare_cgroup`]): a cgroup
    /// namespace's root is the cgroup its creator is in at that moment.
    pub fn clone_flags(&self) -> CloneFlags {
        self.config.clone_flags() - Kind::Cgroup.clone_flag()
    }

    /// Parent, before the clone: joins the pid and time namespaces, which apply only to the
    /// caller's children.
    pub fn enter_for_children(&self) -> Result<(), Error> {
        self.joins.enter_for_children()
    }

    /// Parent, after the clone: writes the child's uid/gid maps when its user namespace is
    /// new. Returns whether it did.
    pub fn after_clone(&self, child: Pid, uid: &[IdMap], gid: &[IdMap]) -> Result<bool, Error> {
        if *self.mode(Kind::User) != Mode::New || uid.is_empty() {
            return Ok(false);
        }
        write_id_maps(child.as_raw(), uid, gid, false)?;
        Ok(true)
    }

    /// Child: joins every namespace to join but pid and time (see
    /// [`Prepared::enter_for_children`]), the user namespace first.
    pub fn join(&self) -> Result<(), Error> {
        self.joins.enter()
    }

    /// Child: in a user namespace of its own (new, with the maps written, or joined), becomes
    /// its root. Returns whether it changed ids: the kernel then clears the parent-death
    /// signal, which the caller must set again.
    pub fn become_root(&self) -> Result<bool, Error> {
        if *self.mode(Kind::User) == Mode::Host {
            return Ok(false);
        }
        become_root()?;
        Ok(true)
    }

    /// Child, once it is in its cgroup: a new cgroup namespace rooted there, so that
    /// `/proc/self/cgroup` inside shows `/`.
    pub fn unshare_cgroup(&self) -> Result<(), Error> {
        if *self.mode(Kind::Cgroup) != Mode::New {
            return Ok(());
        }
        unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|errno| Error::Unshare {
            kind: Kind::Cgroup.proc_name(),
            errno,
        })
    }

    /// Child: the hostname, in a uts namespace of its own (a shared one is left alone).
    pub fn set_hostname(&self, name: Option<&str>) -> Result<(), Error> {
        match (name, self.mode(Kind::Uts)) {
            (Some(name), Mode::New) => sethostname(name).map_err(|errno| Error::Hostname { errno }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup_namespace_is_not_cloned() {
        let prepared = prepare(&NsConfig::default()).unwrap();
        let flags = prepared.clone_flags();
        assert!(flags.contains(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS));
        assert!(!flags.contains(CloneFlags::CLONE_NEWCGROUP));
    }

    #[test]
    fn nothing_to_do_for_the_hosts_namespaces() {
        let mut config = NsConfig::default();
        for kind in Kind::ALL {
            config.set(kind, Mode::Host);
        }
        let prepared = prepare(&config).unwrap();
        assert!(!prepared.become_root().unwrap());
        prepared.unshare_cgroup().unwrap();
        prepared.set_hostname(Some("not-set")).unwrap();
        let me = Pid::this();
        let map = [IdMap {
            inside: 0,
            outside: 0,
            count: 1,
        }];
        assert!(!prepared.after_clone(me, &map, &map).unwrap());
    }
}
