//! `box run`'s options → the box.toml they mean ([`Doc`]), with, for each key written, the
//! option it came from: an error about the key is then told about the option.

use std::path::Path;

use super::args::RunArgs;
use super::doc::{Doc, Network};
use super::limits;
use super::parse;
use super::RunError;

/// A `box run` line as a box.toml, and where each of its keys came from.
#[derive(Debug, Default)]
pub struct Translated {
    pub doc: Doc,
    /// (key path as `config` renders it, the option that set it), in the order given.
    pub origins: Vec<(String, String)>,
}

impl Translated {
    pub(super) fn set(&mut self, key: impl Into<String>, flag: &str, value: &str) {
        self.origins.push((key.into(), show(flag, value)));
    }
}

/// The option as the user gave it, for messages: `--memory 10x`.
pub fn show(flag: &str, value: &str) -> String {
    if value.is_empty() {
        flag.to_string()
    } else {
        format!("{flag} {value}")
    }
}

/// Where the process is: the caller's environment (for `-e KEY` and `TERM`) and directory
/// (relative paths are made absolute, so the printed box.toml works from anywhere).
pub struct Caller<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub cwd: &'a Path,
}

/// `IMAGE`: box.toml's `image = ...` (the command and `--entrypoint` then follow Docker's
/// rules for an image, in `process` below).
fn image(doc: &mut Doc, image: &str) -> Result<(), RunError> {
    doc.image = Some(image.into());
    Ok(())
}

pub fn translate(a: &RunArgs, caller: &Caller<'_>) -> Result<Translated, RunError> {
    let mut t = Translated::default();
    process(a, caller, &mut t)?;
    namespaces(a, &mut t);
    network(a, &mut t);
    limits::resources(a, &mut t)?;
    limits::security(a, caller, &mut t)?;
    mounts(a, caller, &mut t)?;
    limits::stop(a, &mut t)?;
    Ok(t)
}

/// The image or root, the command, and the process keys.
fn process(a: &RunArgs, caller: &Caller<'_>, t: &mut Translated) -> Result<(), RunError> {
    let mut rest = a.rest.iter();
    match &a.rootfs {
        Some(dir) => {
            let dir = if dir == "host" {
                dir.clone()
            } else {
                parse::absolute(dir, caller.cwd)
            };
            t.set("rootfs", "--rootfs", &dir);
            t.doc.rootfs = Some(dir);
        }
        None => match rest.next() {
            Some(name) => {
                image(&mut t.doc, name)?;
                t.set("image", name, "");
            }
            None => {
                return Err(RunError::plain(
                    "give an IMAGE, or --rootfs DIR|host and a command (see `box run --help`)",
                ))
            }
        },
    }
    let command: Vec<String> = rest.cloned().collect();
    if t.doc.image.is_some() {
        // The image's Entrypoint and Cmd stand for what is not given, as with Docker.
        if let Some(program) = &a.entrypoint {
            t.set("entrypoint", "--entrypoint", program);
            t.doc.entrypoint = Some(vec![program.clone()]);
        }
    } else if a.entrypoint.is_none() && command.is_empty() {
        return Err(RunError::plain(
            "--rootfs: a root filesystem has no default command: give one after the options",
        ));
    }
    t.origins.push(("command".into(), "the command".into()));
    // Without an image, the entrypoint is the program and the command its arguments.
    t.doc.command = match (&t.doc.image, &a.entrypoint) {
        (None, Some(program)) => std::iter::once(program.clone()).chain(command).collect(),
        _ => command,
    };
    let d = &mut t.doc;
    d.name.clone_from(&a.name);
    d.hostname.clone_from(&a.hostname);
    d.workdir.clone_from(&a.workdir);
    d.user.clone_from(&a.user);
    d.tty = a.tty;
    d.init = a.init;
    d.devices.clone_from(&a.device);
    if a.tty {
        t.set("tty", "--tty", "");
    }
    if a.init {
        t.set("init", "--init", "");
    }
    for (key, flag, value) in [
        ("name", "--name", &a.name),
        ("hostname", "--hostname", &a.hostname),
        ("workdir", "--workdir", &a.workdir),
        ("user", "--user", &a.user),
    ] {
        if let Some(v) = value {
            t.set(key, flag, v);
        }
    }
    for (i, dev) in a.device.iter().enumerate() {
        t.set(format!("devices[{i}]"), "--device", dev);
    }
    for file in &a.env_file {
        let entries = parse::env_file(&Path::new(caller.cwd).join(file), caller.env)
            .map_err(|m| RunError::flag(&show("--env-file", &file.display().to_string()), m))?;
        for key in entries.keys() {
            t.set(env_key(key), "--env-file", &file.display().to_string());
        }
        t.doc.env.extend(entries);
    }
    for text in &a.env {
        if let Some((k, v)) = parse::env_entry(text, caller.env) {
            t.set(env_key(&k), "--env", text);
            t.doc.env.insert(k, v);
        }
    }
    if a.tty && !t.doc.env.contains_key("TERM") {
        let term = (caller.env)("TERM").unwrap_or_else(|| "xterm".into());
        t.doc.env.insert("TERM".into(), term);
    }
    Ok(())
}

fn env_key(key: &str) -> String {
    crate::config::render(&[
        crate::config::Seg::Key("env".into()),
        crate::config::Seg::Key(key.into()),
    ])
}

/// `--pid`, `--ipc`, `--uts`, `--userns`, `--cgroupns`: Docker's words for box's modes.
fn namespaces(a: &RunArgs, t: &mut Translated) {
    for (kind, flag, value) in [
        ("pid", "--pid", &a.pid),
        ("ipc", "--ipc", &a.ipc),
        ("uts", "--uts", &a.uts),
        ("user", "--userns", &a.userns),
        ("cgroup", "--cgroupns", &a.cgroupns),
    ] {
        let Some(value) = value else { continue };
        let mode = match value.as_str() {
            "private" | "shareable" => "new",
            other => other,
        };
        t.set(format!("namespaces.{kind}"), flag, value);
        t.doc.namespaces.insert(kind.into(), mode.into());
    }
}

/// `--network` and `-p`: published ports need a bridge, which `-p` alone implies (Docker's
/// default network is a bridge; box's, without either, is a namespace with only `lo`).
fn network(a: &RunArgs, t: &mut Translated) {
    if a.network.is_none() && a.publish.is_empty() {
        return;
    }
    let (mode, name) = match a.network.as_deref() {
        None | Some("bridge" | "default") => ("bridge".to_string(), None),
        Some(m @ ("none" | "host")) => (m.to_string(), None),
        Some(m) if m.starts_with("container:") => (m.to_string(), None),
        Some(other) => ("bridge".to_string(), Some(other.to_string())),
    };
    if let Some(value) = &a.network {
        t.set("network.mode", "--network", value);
        t.set("network.name", "--network", value);
    }
    for (i, port) in a.publish.iter().enumerate() {
        t.set(format!("network.ports[{i}]"), "--publish", port);
    }
    if a.network.is_none() {
        t.set("network", "--publish", &a.publish.join(" "));
    }
    t.doc.network = Some(Network {
        mode,
        name,
        ports: a.publish.clone(),
    });
}

/// `-v` then `--tmpfs`, in the order given: `[[mounts]]` in that order.
fn mounts(a: &RunArgs, caller: &Caller<'_>, t: &mut Translated) -> Result<(), RunError> {
    for text in &a.volume {
        let mount = parse::volume(text, caller.cwd)
            .map_err(|m| RunError::flag(&show("--volume", text), m))?;
        t.set(format!("mounts[{}]", t.doc.mounts.len()), "--volume", text);
        t.doc.mounts.push(mount);
    }
    for text in &a.tmpfs {
        let mount = parse::tmpfs(text).map_err(|m| RunError::flag(&show("--tmpfs", text), m))?;
        t.set(format!("mounts[{}]", t.doc.mounts.len()), "--tmpfs", text);
        t.doc.mounts.push(mount);
    }
    Ok(())
}
