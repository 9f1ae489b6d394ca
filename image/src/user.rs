//! The user a container's process runs as, from a user spec (`name`, `uid`, `name:group`,
//! `uid:gid`, …) and the image's `/etc/passwd` and `/etc/group`, with Docker's rules:
//!
//! - a name must be in `/etc/passwd` (the first matching line wins); a number need not be,
//!   and then its group is 0 and its home `/`;
//! - a group given by name must be in `/etc/group`; a number need not be;
//! - only when no group is given do the user's memberships in `/etc/group` (lines that list
//!   the user's name) become supplementary groups;
//! - no spec at all is root (uid 0), looked up like any other.
//!
//! The files come from the image, so they are hostile input: malformed lines are skipped,
//! ids must be in 0..=2^31-1.

/// The largest ID Docker and runc accept.
pub const ID_MAX: u32 = (1 << 31) - 1;

/// Who the process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, in `/etc/group`'s order.
    pub additional_gids: Vec<u32>,
    /// The user's home from `/etc/passwd`, `/` when the user has no line there: `HOME` when
    /// the environment does not set it.
    pub home: String,
}

/// Why a user spec cannot be resolved in the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in the image's /etc/passwd")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in the image's /etc/group")]
    NoGroup(String),
    #[error("user spec {0:?}: ids are 0 to 2147483647")]
    Range(String),
    #[error("invalid user spec {0:?}")]
    Spec(String),
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

/// Resolves `spec` (`None`: root) against the image's files (`None`: the file is missing).
pub fn resolve(
    spec: Option<&str>,
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<Identity, UserError> {
    let spec = spec.unwrap_or("");
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((u, g)) => (u, g),
        None => (spec, ""),
    };
    if group_arg.contains(':') || (user_arg.is_empty() && !spec.is_empty() && group_arg.is_empty())
    {
        return Err(UserError::Spec(spec.into()));
    }
    let number = |text: &str| -> Result<Option<u32>, UserError> {
        match text.parse::<u64>() {
            Ok(n) if n <= u64::from(ID_MAX) => Ok(Some(n as u32)),
            Ok(_) => Err(UserError::Range(spec.into())),
            Err(_) if text.starts_with('-') && text[1..].bytes().all(|b| b.is_ascii_digit()) => {
                Err(UserError::Range(spec.into()))
            }
            Err(_) => Ok(None),
        }
    };
    let uid_arg = number(user_arg)?;
    let gid_arg = number(group_arg)?;
    let users = passwd.map(parse_passwd).unwrap_or_default();
    let found = users.iter().find(|u| match (user_arg, uid_arg) {
        ("", _) => u.uid == 0,
        (_, Some(uid)) => u.uid == uid,
        (name, None) => u.name == name,
    });
    let mut id = Identity {
        uid: 0,
        gid: 0,
        additional_gids: Vec::new(),
        home: "/".into(),
    };
    match (found, uid_arg) {
        (Some(u), _) => {
            id.uid = u.uid;
            id.gid = u.gid;
            id.home = u.home.to_string();
        }
        (None, Some(uid)) => id.uid = uid,
        (None, None) if user_arg.is_empty() => {}
        (None, None) => return Err(UserError::NoUser(user_arg.into())),
    }
    let groups = group.map(parse_group).unwrap_or_default();
    if !group_arg.is_empty() {
        let g = groups.iter().find(|g| match gid_arg {
            Some(gid) => g.gid == gid,
            None => g.name == group_arg,
        });
        id.gid = match (g, gid_arg) {
            (Some(g), _) => g.gid,
            (None, Some(gid)) => gid,
            (None, None) => return Err(UserError::NoGroup(group_arg.into())),
        };
    } else if let Some(u) = found {
        id.additional_gids = groups
            .iter()
            .filter(|g| g.members.contains(&u.name))
            .map(|g| g.gid)
            .collect();
    }
    Ok(id)
}

fn id_field(text: &str) -> Option<u32> {
    text.parse::<u32>().ok().filter(|&n| n <= ID_MAX)
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(['+', '-']))
        .map(|l| l.split(':').collect())
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry<'_>> {
    lines(text)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f.first()?,
                uid: id_field(f.get(2)?)?,
                gid: id_field(f.get(3)?)?,
                home: f.get(5).copied().filter(|h| !h.is_empty()).unwrap_or("/"),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry<'_>> {
    lines(text)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f.first()?,
                gid: id_field(f.get(2)?)?,
                members: f
                    .get(3)
                    .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
# a comment
broken line
nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin
nginx:x:999:999:second match loses:/x:/bin/sh
app:x:1000:1000::/home/app:/bin/sh
huge:x:4294967295:0::/:/bin/sh
";
    const GROUP: &str = "root:x:0:
nginx:x:101:
www:x:33:app,nginx
audio:x:29:app
bad:x:notanumber:app
";

    fn id(spec: Option<&str>) -> Result<Identity, UserError> {
        resolve(spec, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn names_resolve_through_passwd_with_memberships() {
        let app = id(Some("app")).unwrap();
        assert_eq!(
            (app.uid, app.gid, app.home.as_str()),
            (1000, 1000, "/home/app")
        );
        assert_eq!(app.additional_gids, vec![33, 29]);
        let nginx = id(Some("nginx")).unwrap();
        assert_eq!((nginx.uid, nginx.gid), (101, 101), "the first match wins");
        assert_eq!(nginx.additional_gids, vec![33]);
        let root = id(None).unwrap();
        assert_eq!((root.uid, root.gid, root.home.as_str()), (0, 0, "/root"));
        assert_eq!(id(Some("0")).unwrap(), root);
    }

    #[test]
    fn numbers_need_no_entry() {
        let n = id(Some("4242")).unwrap();
        assert_eq!((n.uid, n.gid, n.home.as_str()), (4242, 0, "/"));
        assert!(n.additional_gids.is_empty());
        let n = id(Some("1000")).unwrap();
        assert_eq!(
            (n.uid, n.gid, n.additional_gids),
            (1000, 1000, vec![33, 29])
        );
        let n = id(Some("4242:4343")).unwrap();
        assert_eq!((n.uid, n.gid), (4242, 4343));
        let n = resolve(Some("5:6"), None, None).unwrap();
        assert_eq!((n.uid, n.gid), (5, 6));
        let n = resolve(None, None, None).unwrap();
        assert_eq!((n.uid, n.gid, n.home.as_str()), (0, 0, "/"));
    }

    #[test]
    fn an_explicit_group_replaces_memberships() {
        let n = id(Some("app:www")).unwrap();
        assert_eq!((n.uid, n.gid), (1000, 33));
        assert!(n.additional_gids.is_empty());
        let n = id(Some("app:7")).unwrap();
        assert_eq!(n.gid, 7);
        let n = id(Some(":www")).unwrap();
        assert_eq!((n.uid, n.gid), (0, 33));
    }

    #[test]
    fn unknown_names_and_bad_specs_are_errors() {
        assert_eq!(id(Some("nobody")), Err(UserError::NoUser("nobody".into())));
        assert_eq!(
            id(Some("app:nogroup")),
            Err(UserError::NoGroup("nogroup".into()))
        );
        assert_eq!(
            resolve(Some("app"), None, None),
            Err(UserError::NoUser("app".into()))
        );
        assert_eq!(
            id(Some("2147483648")),
            Err(UserError::Range("2147483648".into()))
        );
        assert_eq!(id(Some("1:-1")), Err(UserError::Range("1:-1".into())));
        assert_eq!(id(Some("a:b:c")), Err(UserError::Spec("a:b:c".into())));
        assert_eq!(
            id(Some("huge")),
            Err(UserError::NoUser("huge".into())),
            "out of range lines are skipped"
        );
    }
}
