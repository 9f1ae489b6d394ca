//! What the network tests share: networks of their own (names and subnets no user and no
//! other test has), HTTP over TCP from the host, and the check that nothing of a network is
//! left on the host.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use box_tests::{ok, Case};

/// A network of one test: its name (the bridge's) and its /24 subnet `10.203.N.0/24`.
pub struct Net {
    pub name: String,
    pub third: u8,
}

impl Net {
    /// `tag`: two letters naming the test; `third`: the subnet's third byte, one per test.
    pub fn new(tag: &str, third: u8) -> Net {
        Net {
            name: format!("bt{tag}{}", std::process::id() % 100_000),
            third,
        }
    }

    pub fn subnet(&self) -> String {
        format!("10.203.{}.0/24", self.third)
    }

    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 203, self.third, 1)
    }

    /// A `[network]` table for this network, with more keys after it.
    pub fn table(&self, more: &str) -> String {
        format!(
            "[network]\nmode = \"bridge\"\nname = \"{}\"\nsubnet = \"{}\"\n{more}",
            self.name,
            self.subnet()
        )
    }

    /// Asserts nothing of the network is left: no bridge, no veth of its subnet, no rule of it
    /// in box's nftables table, no allocation. The last container's box may still be
    /// unwinding when its `box rm` returns: waited for, boundedly.
    pub fn assert_gone(&self) {
        let mut last = String::new();
        for _ in 0..100 {
            match self.leftovers() {
                None => return,
                Some(what) => last = what,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("network {} left behind: {last}", self.name);
    }

    fn leftovers(&self) -> Option<String> {
        let links = ip(&["-o", "link", "show"]);
        let veth_prefix = format!("vb0acb{:02x}", self.third);
        for line in links.lines() {
            let name = line.split(": ").nth(1).unwrap_or_default();
            let name = name.split('@').next().unwrap_or_default();
            if name == self.name || name.starts_with(&veth_prefix) {
                return Some(format!("link {line}"));
            }
        }
        let rules = nft_ruleset();
        for mark in [
            format!("\"net {}\"", self.name),
            format!("\"port {}/", self.name),
        ] {
            if rules.contains(&mark) {
                return Some(format!("nftables rule {mark} in {rules}"));
            }
        }
        let store = std::path::Path::new("/run/box-net").join(&self.name);
        store
            .exists()
            .then(|| format!("allocations {}", store.display()))
    }
}

pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("run ip (Debian's iproute2)");
    ok(&out)
}

pub fn nft_ruleset() -> String {
    let out = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft (Debian's nftables)");
    ok(&out)
}

/// A container command that serves `/who` (the text `who`) over HTTP on `listen`
/// (`80`, `127.0.0.1:8000`), in the foreground.
pub fn serve(who: &str, listen: &str) -> String {
    format!(
        "command = [\"/bin/sh\", \"-c\", \"mkdir -p /tmp/www && echo {who} > /tmp/www/who && exec busybox httpd -f -p {listen} -h /tmp/www\"]\n"
    )
}

/// `GET /PATH` from the host; retried (boundedly) while the server is not listening yet.
pub fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut last = None;
    for _ in 0..100 {
        match get_once(addr, path) {
            Ok(body) => return body,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("GET http://{addr}{path}: {last:?}");
}

fn get_once(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    if !(text.starts_with("HTTP/1.") && text[8..].starts_with(" 200")) {
        return Err(std::io::Error::other(format!("answer: {text}")));
    }
    Ok(body.trim().to_string())
}

/// The container's address, as `box inspect` shows it.
pub fn address(root: &box_tests::StateRoot, name: &str) -> Ipv4Addr {
    root.field(name, "{{.Network.IPAddress}}")
        .parse()
        .expect("an IPv4 address in box inspect")
}

pub fn case(prefix: &str, body: &str) -> Case {
    Case::new(prefix, body)
}
