//! The allocation store: one directory per network under the store root, holding the
//! network's subnet and one record per container (its address, its published ports, the
//! process that owns it). One lock (`flock` on `ROOT/lock`) serializes every change, so that
//! concurrent `box up`s never take the same address and a network is made and removed once.
//!
//! ```text
//! /run/box-net/lock                    (the directories 0711, the records 0600)
//! /run/box-net/NETWORK/network.json     {"subnet": ...}
//! /run/box-net/NETWORK/NAME.json        {"address": ..., "owner": {...}, "ports": [...], ...}
//! ```
//!
//! A record whose owner (the box process that will undo the start) is gone belongs to a box
//! that was killed: the next start reclaims it.

use std::fs::{self, File};
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::config::{PortMap, Subnet};
use crate::Error;

/// The largest record box reads back (they are a few hundred bytes).
const MAX_RECORD: u64 = 64 * 1024;

/// The process that owns an allocation: its pid and its start time (clock ticks since boot,
/// field 22 of `/proc/PID/stat`), so that a reused pid is not taken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: i32,
    pub start: u64,
}

impl Owner {
    pub fn me() -> Result<Owner, Error> {
        let pid = std::process::id() as i32;
        let start = start_time(pid).ok_or(Error::Store {
            what: "read this process's start time".into(),
            path: PathBuf::from("/proc/self/stat"),
            errno: Errno::EIO,
        })?;
        Ok(Owner { pid, start })
    }

    /// Whether the owner still runs: its pid has its start time and is not a zombie (a killed
    /// box whose parent has not reaped it yet will undo nothing).
    pub fn alive(&self) -> bool {
        matches!(stat(self.pid), Some((state, start)) if start == self.start && !matches!(state, 'Z' | 'X'))
    }
}

fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|(_, start)| start)
}

/// The state (field 3) and start time (field 22) of `/proc/PID/stat`.
fn stat(pid: i32) -> Option<(char, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command (field 2) may hold spaces and parentheses: count from the last ')'.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.nth(18)?.parse().ok()?))
}

/// A network as its first container made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub subnet: Subnet,
    /// The address given last: the next container gets the first free one after it (as
    /// Docker's allocator does), so an address just released is not handed out again while
    /// its old namespace may still be going away.
    #[serde(default)]
    pub last: Option<Ipv4Addr>,
}

/// One container on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub container: String,
    pub hostname: String,
    pub address: Ipv4Addr,
    pub owner: Owner,
    /// The host end of its veth.
    pub host_veth: String,
    pub ports: Vec<PortMap>,
    /// The handles of its rules in the table's `ports` chain.
    pub rule_handles: Vec<u64>,
    /// Its `/etc/hosts` on the host, rewritten as containers come and go.
    pub hosts_file: PathBuf,
}

/// The store, locked for as long as this lives.
pub struct Locked {
    root: PathBuf,
    _lock: Flock<File>,
}

fn store_err(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let (what, path) = (what.to_string(), path.to_path_buf());
    move |e| Error::Store {
        what,
        path,
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// Searchable, not listable, by others: a container in a user namespace (an unprivileged uid
/// on the host) must reach its own files to bind them; the records themselves are 0600.
const DIR_MODE: u32 = 0o711;

/// Makes (or finds) a store root or network directory, refusing a link or a non-directory.
fn private_dir(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    match fs::DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(store_err("create", path)(e)),
    }
    let meta = fs::symlink_metadata(path).map_err(store_err("stat", path))?;
    if !meta.is_dir() {
        return Err(Error::Store {
            what: "use (not a directory)".into(),
            path: path.to_path_buf(),
            errno: Errno::ENOTDIR,
        });
    }
    if meta.permissions().mode() & 0o7777 != DIR_MODE {
        fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
            .map_err(store_err("chmod", path))?;
    }
    Ok(())
}

impl Locked {
    /// Takes the store's lock, creating the root when missing.
    pub fn open(root: &Path) -> Result<Locked, Error> {
        private_dir(root)?;
        let path = root.join("lock");
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(store_err("open", &path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| Error::Store {
                what: "lock".into(),
                path: path.clone(),
                errno,
            })?;
        Ok(Locked {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn network_dir(&self, network: &str) -> PathBuf {
        self.root.join(network)
    }

    /// The networks that exist, by name.
    pub fn networks(&self) -> Result<Vec<String>, Error> {
        let entries = fs::read_dir(&self.root).map_err(store_err("list", &self.root))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn network(&self, network: &str) -> Result<Option<NetworkRecord>, Error> {
        read_json(&self.network_dir(network).join("network.json"))
    }

    pub fn create_network(&self, network: &str, record: &NetworkRecord) -> Result<(), Error> {
        let dir = self.network_dir(network);
        private_dir(&dir)?;
        write_json(&dir.join("network.json"), record)
    }

    /// Replaces a network's record (the address given last), in place.
    pub fn update_network(&self, network: &str, record: &NetworkRecord) -> Result<(), Error> {
        overwrite_json(&self.network_dir(network).join("network.json"), record)
    }

    pub fn remove_network(&self, network: &str) -> Result<(), Error> {
        let dir = self.network_dir(network);
        let _ = fs::remove_file(dir.join("network.json"));
        match fs::remove_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(store_err("remove", &dir)(e)),
            _ => Ok(()),
        }
    }

    /// The records of `network`, by container name.
    pub fn records(&self, network: &str) -> Result<Vec<Record>, Error> {
        let dir = self.network_dir(network);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(store_err("list", &dir)(e)),
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name == "network.json" || !name.ends_with(".json") {
                continue;
            }
            if let Some(record) = read_json::<Record>(&entry.path())? {
                records.push(record);
            }
        }
        records.sort_by(|a, b| a.container.cmp(&b.container));
        Ok(records)
    }

    pub fn write_record(&self, network: &str, record: &Record) -> Result<(), Error> {
        write_json(&self.record_path(network, &record.container), record)
    }

    /// Replaces a record written before (its rules' handles added), in place.
    pub fn update_record(&self, network: &str, record: &Record) -> Result<(), Error> {
        overwrite_json(&self.record_path(network, &record.container), record)
    }

    fn record_path(&self, network: &str, container: &str) -> PathBuf {
        self.network_dir(network).join(format!("{container}.json"))
    }

    pub fn remove_record(&self, network: &str, container: &str) -> Result<(), Error> {
        let path = self.network_dir(network).join(format!("{container}.json"));
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(store_err("remove", &path)(e))
            }
            _ => Ok(()),
        }
    }
}

/// Reads a record written by box: a regular file (never through a link) of bounded size.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, Error> {
    use std::io::Read;
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(store_err("open", path)(e)),
    };
    let mut text = String::new();
    file.take(MAX_RECORD)
        .read_to_string(&mut text)
        .map_err(store_err("read", path))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|_| Error::Store {
            what: "parse".into(),
            path: path.to_path_buf(),
            errno: Errno::EINVAL,
        })
}

/// `value` as the JSON of the record at `path`.
fn encode<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|_| Error::Store {
        what: "encode".into(),
        path: path.to_path_buf(),
        errno: Errno::EINVAL,
    })
}

/// Writes a record whole: a temporary file, then a rename over the old one.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let tmp = path.with_extension("json.tmp");
    let text = encode(path, value)?;
    let _ = fs::remove_file(&tmp);
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(store_err("create", &tmp))?;
    file.write_all(&text).map_err(store_err("write", &tmp))?;
    fs::rename(&tmp, path).map_err(store_err("rename", path))
}

/// Replaces the record at `path` in one `write` at its start, padded with spaces (JSON's
/// whitespace) to at least its old length, so that nothing needs cutting off: no moment shows
/// a reader a half-written record (they wait for the store's lock anyway, and a `kill -9`
/// cannot split one write of a page, and a record is far smaller), and no block is freed. A rename over the old file, as
/// [`write_json`] does, frees the old one's; on an ext4 without a journal (this project's
/// development VM's `/run`) each freed block is discarded at once, synchronously.
fn overwrite_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let mut text = encode(path, value)?;
    let mut file = File::options()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(store_err("open", path))?;
    let old_len = file.metadata().map_err(store_err("stat", path))?.len();
    let old_len = usize::try_from(old_len)
        .unwrap_or(usize::MAX)
        .min(MAX_RECORD as usize);
    if text.len() < old_len {
        text.resize(old_len, b' ');
    }
    file.write_all(&text).map_err(store_err("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_overwritten_in_place_reads_back_longer_or_shorter() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("network.json");
        let subnet = Subnet::parse("10.1.0.0/16").unwrap();
        let at = |last: &str| NetworkRecord {
            subnet,
            last: Some(last.parse().unwrap()),
        };
        write_json(&path, &at("10.1.0.2")).unwrap();
        let inode = fs::metadata(&path).unwrap().ino();
        for last in ["10.1.100.200", "10.1.0.3"] {
            overwrite_json(&path, &at(last)).unwrap();
            let back: NetworkRecord = read_json(&path).unwrap().unwrap();
            assert_eq!(back.last, at(last).last);
        }
        assert_eq!(fs::metadata(&path).unwrap().ino(), inode, "the same file");
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
        assert!(
            overwrite_json(&path, &at("10.1.0.4")).is_err(),
            "never through a link"
        );
    }

    #[test]
    fn an_owner_is_alive_only_with_its_start_time() {
        let me = Owner::me().unwrap();
        assert!(me.alive());
        assert!(!Owner {
            start: me.start + 1,
            ..me
        }
        .alive());
        assert!(!Owner {
            pid: i32::MAX,
            ..me
        }
        .alive());
    }

    #[test]
    fn records_round_trip_and_list_by_network() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let store = Locked::open(&root).unwrap();
        let subnet = Subnet::parse("10.1.0.0/24").unwrap();
        store
            .create_network("n1", &NetworkRecord { subnet, last: None })
            .unwrap();
        let record = Record {
            container: "web".into(),
            hostname: "web".into(),
            address: Ipv4Addr::new(10, 1, 0, 2),
            owner: Owner::me().unwrap(),
            host_veth: "vb0a010002".into(),
            ports: vec![PortMap::parse("8080:80").unwrap()],
            rule_handles: vec![7],
            hosts_file: root.join("n1/web.hosts"),
        };
        store.write_record("n1", &record).unwrap();
        assert_eq!(store.networks().unwrap(), ["n1"]);
        assert_eq!(store.records("n1").unwrap(), [record]);
        assert_eq!(store.network("n1").unwrap().unwrap().subnet, subnet);
        store.remove_record("n1", "web").unwrap();
        store.remove_network("n1").unwrap();
        assert!(store.networks().unwrap().is_empty());
    }

    #[test]
    fn a_store_root_that_is_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("store");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        assert!(Locked::open(&link).is_err());
    }
}
