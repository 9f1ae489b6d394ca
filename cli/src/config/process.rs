//! The process keys of a container: `command`, `env`, `hostname`, `workdir` and `user`, checked
//! the way the kernel will take them (`execve`, `sethostname`, `setresuid`), so that
//! `box validate` refuses what `box up` would fail on, and names the key.

use std::path::PathBuf;

use box_launcher::DEFAULT_PATH;
use box_security::UserSpec;

use super::to_spec::Ctx;
use super::{ConfigError, Seg};

/// The longest hostname `sethostname` takes (`__NEW_UTS_LEN`).
const MAX_HOSTNAME: usize = 64;

/// `command`: a program, and no argument the kernel cannot pass (a C string ends at NUL).
pub fn command(c: &Ctx<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(args) = &c.file.command else {
        return Err(c.missing("command"));
    };
    if args.first().map_or(true, String::is_empty) {
        return Err(c.err(&["command"], "must name a program to run"));
    }
    no_nul(c, "command", args)?;
    Ok(args.clone())
}

/// The arguments of a container on an image (its Entrypoint and Cmd, or the file's): a
/// program first, and nothing the kernel cannot pass.
pub fn image_command(c: &Ctx<'_>, args: &[String]) -> Result<Vec<String>, ConfigError> {
    if args.first().map_or(true, String::is_empty) {
        let key = if c.file.entrypoint.is_some() {
            "entrypoint"
        } else {
            "command"
        };
        return Err(c.err(&[key], "must name a program to run"));
    }
    for (key, given) in [
        ("entrypoint", &c.file.entrypoint),
        ("command", &c.file.command),
    ] {
        if let Some(given) = given {
            no_nul(c, key, given)?;
        }
    }
    if args.iter().any(|a| a.contains('\0')) {
        return Err(c.err(&["image"], "the image's command holds a NUL byte"));
    }
    Ok(args.to_vec())
}

fn no_nul(c: &Ctx<'_>, key: &str, args: &[String]) -> Result<(), ConfigError> {
    match args.iter().position(|a| a.contains('\0')) {
        Some(i) => {
            let at = [Seg::Key(key.into()), Seg::Index(i)];
            Err(c.error_at(&at, "holds a NUL byte, which no argument can"))
        }
        None => Ok(()),
    }
}

/// `hostname`: what `sethostname` takes, at most 64 bytes and no NUL.
pub fn hostname(c: &Ctx<'_>) -> Result<Option<String>, ConfigError> {
    let Some(name) = &c.file.hostname else {
        return Ok(None);
    };
    if name.len() > MAX_HOSTNAME {
        return Err(c.err(
            &["hostname"],
            format!(
                "is {} bytes long; the kernel takes at most {MAX_HOSTNAME}",
                name.len()
            ),
        ));
    }
    if name.contains('\0') {
        return Err(c.err(&["hostname"], "holds a NUL byte"));
    }
    Ok(Some(name.clone()))
}

/// `env` → `KEY=value` strings, with Docker's additions: `PATH` when missing, `HOSTNAME`
/// (the container's, `hostname`), `TERM` with a terminal. A key is never empty and has no `=`
/// (the kernel's environment has no other way to tell key from value); nothing holds NUL.
pub fn env(c: &Ctx<'_>, hostname: &str) -> Result<Vec<String>, ConfigError> {
    let f = c.file;
    check_env(c)?;
    let mut env: Vec<String> = f.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !f.env.contains_key("PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    Ok(docker_additions(c, env, hostname))
}

/// The environment of a container on an image: the image's and the file's merged (`base`,
/// by Docker's precedence), then `HOME` (the user's, from the image's `/etc/passwd`) and
/// Docker's additions when missing.
pub fn image_env(
    c: &Ctx<'_>,
    base: Vec<String>,
    home: &str,
    hostname: &str,
) -> Result<Vec<String>, ConfigError> {
    check_env(c)?;
    let mut env = base;
    if !has(&env, "HOME") {
        env.push(format!("HOME={home}"));
    }
    Ok(docker_additions(c, env, hostname))
}

fn has(env: &[String], key: &str) -> bool {
    env.iter()
        .any(|e| e.split_once('=').is_some_and(|(k, _)| k == key))
}

/// `HOSTNAME` (the container's, `hostname`), `TERM` with a terminal, unless already set.
fn docker_additions(c: &Ctx<'_>, mut env: Vec<String>, hostname: &str) -> Vec<String> {
    let f = c.file;
    if !has(&env, "HOSTNAME") {
        env.push(format!("HOSTNAME={hostname}"));
    }
    if f.tty && !has(&env, "TERM") {
        env.push("TERM=xterm".to_string());
    }
    env
}

/// Every `env` entry is one the kernel's environment can hold.
fn check_env(c: &Ctx<'_>) -> Result<(), ConfigError> {
    let f = c.file;
    for (key, value) in &f.env {
        let problem = if key.is_empty() {
            Some("an environment variable needs a name")
        } else if key.contains('=') {
            Some("a name with '=' cannot be told apart from its value")
        } else if key.contains('\0') || value.contains('\0') {
            Some("holds a NUL byte, which no environment entry can")
        } else {
            None
        };
        if let Some(problem) = problem {
            let at = [Seg::Key("env".into()), Seg::Key(key.clone())];
            return Err(c.error_at(&at, problem));
        }
    }
    Ok(())
}

/// `workdir`: an absolute path (default `/`) without NUL.
pub fn workdir(c: &Ctx<'_>) -> Result<PathBuf, ConfigError> {
    let text = c.file.workdir.as_deref().unwrap_or("/");
    if !text.starts_with('/') {
        return Err(c.err(&["workdir"], "must be an absolute path"));
    }
    if text.contains('\0') {
        return Err(c.err(&["workdir"], "holds a NUL byte"));
    }
    Ok(PathBuf::from(text))
}

/// The id the kernel reads as "leave unchanged" in `setresuid`/`setresgid`: (uid_t)-1.
const UNCHANGED_ID: u32 = u32::MAX;

/// `"uid"`, `"uid:gid"` or `"uid:gid:gid2,gid3"` (supplementary groups), numeric ids.
pub fn user(text: Option<&str>) -> Result<UserSpec, String> {
    let Some(text) = text else {
        return Ok(UserSpec::default());
    };
    let bad =
        || format!("{text:?} is not \"UID[:GID[:GID,...]]\" with numeric ids (e.g. \"1000:1000\")");
    let mut parts = text.splitn(3, ':');
    let id = |s: Option<&str>| s.map(|s| s.parse::<u32>().map_err(|_| bad())).transpose();
    let uid = id(parts.next())?.ok_or_else(bad)?;
    let gid = id(parts.next())?.unwrap_or(uid);
    let additional_gids = match parts.next() {
        Some(list) => list
            .split(',')
            .map(|g| g.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    if [uid, gid]
        .iter()
        .chain(&additional_gids)
        .any(|&id| id == UNCHANGED_ID)
    {
        return Err(format!(
            "{UNCHANGED_ID} cannot be an id: the kernel reads (uid_t)-1 as \"leave unchanged\", \
             so the command would keep box's identity, root"
        ));
    }
    Ok(UserSpec {
        uid,
        gid,
        additional_gids,
    })
}

#[cfg(test)]
mod tests {
    use super::user;

    #[test]
    fn users_parse() {
        let u = user(Some("1000:100:5,6")).unwrap();
        assert_eq!((u.uid, u.gid, u.additional_gids), (1000, 100, vec![5, 6]));
        assert_eq!(user(Some("7")).unwrap().gid, 7);
        assert!(user(Some("me")).is_err());
    }

    #[test]
    fn minus_one_is_refused_wherever_it_is() {
        for text in ["4294967295", "0:4294967295", "1:1:5,4294967295"] {
            let err = user(Some(text)).unwrap_err();
            assert!(err.contains("(uid_t)-1"), "{text}: {err}");
        }
        assert!(user(Some("4294967294:4294967294")).is_ok());
    }
}
