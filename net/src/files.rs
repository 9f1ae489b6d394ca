//! The files a bridged container gets as `/etc/hosts`, `/etc/resolv.conf` and
//! `/etc/hostname`: written on the host, in the network's directory of the store, and bound
//! over the container's by the root filesystem layer. `/etc/hosts` names every container of
//! the network, so it is rewritten in place (the same inode: the container's bind mount
//! follows) whenever one comes or goes.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::store::Record;
use crate::Error;

/// Docker's name servers for a container whose host has only loopback ones (a local stub
/// resolver cannot be reached from another net namespace).
const FALLBACK_NAMESERVERS: &str = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";

/// The container's files, and where they go inside it.
pub const TARGETS: [&str; 3] = ["/etc/hosts", "/etc/resolv.conf", "/etc/hostname"];

/// One container's files, in the order of [`TARGETS`]: beside its record in the network's
/// directory (`web.hosts`, `web.resolv.conf`, `web.hostname`), not in a directory of their own,
/// whose removal costs a synchronous discard on a file system that discards freed blocks.
pub(crate) fn paths(store: &Path, network: &str, container: &str) -> [PathBuf; 3] {
    let dir = store.join(network);
    TARGETS.map(|t| dir.join(format!("{container}.{}", &t["/etc/".len()..])))
}

fn io_err(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let (what, path) = (what.to_string(), path.to_path_buf());
    move |e| Error::Store {
        what,
        path,
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// Writes `text` into the file at `path`: created when missing, else overwritten in place and
/// cut to its length, never through a link. Not truncated to nothing first: on a file system
/// that discards freed blocks at once (an ext4 without a journal), emptying and refilling a
/// file waits for the disk.
fn write_in_place(path: &Path, text: &str) -> Result<(), Error> {
    let mut file = File::options()
        .write(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err("open", path))?;
    let old_len = file.metadata().map_err(io_err("stat", path))?.len();
    file.write_all(text.as_bytes())
        .map_err(io_err("write", path))?;
    let len = text.len() as u64;
    if old_len > len {
        file.set_len(len).map_err(io_err("truncate", path))?;
    }
    Ok(())
}

/// Creates the container's three files at `paths` (from [`paths`]).
pub(crate) fn create(paths: &[PathBuf; 3], me: &Record, others: &[Record]) -> Result<(), Error> {
    write_in_place(&paths[0], &hosts(me, others))?;
    write_in_place(&paths[1], &resolv_conf())?;
    write_in_place(&paths[2], &format!("{}\n", me.hostname))
}

/// Rewrites the hosts file of each of `to`, naming every other container of `all`.
pub(crate) fn rewrite_hosts(to: &[Record], all: &[Record]) -> Result<(), Error> {
    for me in to {
        let others: Vec<Record> = all
            .iter()
            .filter(|r| r.container != me.container)
            .cloned()
            .collect();
        write_in_place(&me.hosts_file, &hosts(me, &others))?;
    }
    Ok(())
}

/// Removes the container's files; one already gone is fine.
pub(crate) fn remove(paths: &[PathBuf; 3]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

fn hosts(me: &Record, others: &[Record]) -> String {
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    let line = |r: &Record| {
        if r.hostname == r.container {
            format!("{}\t{}\n", r.address, r.container)
        } else {
            format!("{}\t{} {}\n", r.address, r.hostname, r.container)
        }
    };
    text.push_str(&line(me));
    for other in others {
        text.push_str(&line(other));
    }
    text
}

/// The host's resolv.conf without loopback name servers (Docker's fallback when none is left).
fn resolv_conf() -> String {
    let mut host = String::new();
    if let Ok(file) = File::open("/etc/resolv.conf") {
        let _ = file.take(64 * 1024).read_to_string(&mut host);
    }
    without_loopback(&host)
}

fn without_loopback(host: &str) -> String {
    let mut text = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let loopback = words
                .next()
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                .map_or(true, |a| a.is_loopback());
            if loopback {
                continue;
            }
            servers += 1;
        }
        text.push_str(line);
        text.push('\n');
    }
    if servers == 0 {
        text.push_str(FALLBACK_NAMESERVERS);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Owner;

    fn record(name: &str, host: &str, last: u8) -> Record {
        Record {
            container: name.into(),
            hostname: host.into(),
            address: std::net::Ipv4Addr::new(10, 1, 0, last),
            owner: Owner { pid: 1, start: 1 },
            host_veth: "vb".into(),
            ports: Vec::new(),
            rule_handles: Vec::new(),
            hosts_file: PathBuf::new(),
        }
    }

    #[test]
    fn hosts_name_me_and_the_others() {
        let text = hosts(&record("web", "web", 2), &[record("db", "dbhost", 3)]);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(
            text.ends_with("10.1.0.2\tweb\n10.1.0.3\tdbhost db\n"),
            "{text}"
        );
    }

    #[test]
    fn loopback_name_servers_are_dropped() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n";
        assert_eq!(
            without_loopback(host),
            format!("search lan\noptions edns0\n{FALLBACK_NAMESERVERS}")
        );
        let host = "nameserver 192.0.2.1\n";
        assert_eq!(without_loopback(host), host);
    }

    #[test]
    fn files_are_rewritten_in_place_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let mut me = record("web", "web", 2);
        let paths = paths(dir.path(), "n1", "web");
        fs::create_dir(dir.path().join("n1")).unwrap();
        create(&paths, &me, &[]).unwrap();
        me.hosts_file = paths[0].clone();
        let names = paths
            .each_ref()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_owned());
        assert_eq!(
            names.map(|n| n.to_string_lossy().into_owned()),
            ["n1/web.hosts", "n1/web.resolv.conf", "n1/web.hostname"]
        );
        use std::os::unix::fs::MetadataExt;
        let inode = fs::metadata(&paths[0]).unwrap().ino();
        let mut db = record("db", "db", 3);
        db.hosts_file = dir.path().join("db-hosts");
        let both = [me.clone(), db.clone()];
        rewrite_hosts(&both, &both).unwrap();
        let text = fs::read_to_string(&paths[0]).unwrap();
        assert!(text.contains("10.1.0.3\tdb"), "{text}");
        assert_eq!(fs::metadata(&paths[0]).unwrap().ino(), inode);
        // Shorter again once db is gone: nothing of the longer text is left at its end.
        rewrite_hosts(std::slice::from_ref(&me), std::slice::from_ref(&me)).unwrap();
        assert_eq!(fs::read_to_string(&paths[0]).unwrap(), hosts(&me, &[]));
        assert_eq!(fs::metadata(&paths[0]).unwrap().ino(), inode);
        fs::remove_file(&paths[0]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &paths[0]).unwrap();
        assert!(rewrite_hosts(&[me], &[db]).is_err());
        remove(&paths);
        assert!(paths.iter().all(|p| fs::symlink_metadata(p).is_err()));
    }
}
