//! Plain-data configuration of a container's network, and the parsers of its hostile text
//! (network names, subnets, published ports), shared by every front end.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The network box uses when box.toml names none.
pub const DEFAULT_NETWORK: &str = "box0";
/// The subnet of a network whose first container gives none (Podman's default).
pub const DEFAULT_SUBNET: &str = "10.88.0.0/16";
/// Where box keeps its networks' address allocations (under /run: gone at reboot, like links).
pub const DEFAULT_STORE: &str = "/run/box-net";

/// A container's network, as a front end hands it to the launcher.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetConfig {
    pub mode: NetMode,
    /// Published ports: only with [`NetMode::Bridge`].
    pub ports: Vec<PortMap>,
}

/// How the container gets its network.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetMode {
    /// Its own net namespace with only `lo`, brought up (Docker's `--network=none`).
    #[default]
    None,
    /// The host's net namespace (`--network=host`): nothing to do.
    Host,
    /// Another net namespace (`--network=container:NAME`, or a namespace file), shown as
    /// given: nothing to do here,
    /// the namespace layer joins it.
    Joined(String),
    /// Its own net namespace, an `eth0` on a host bridge, an address of the network's subnet.
    Bridge(BridgeConfig),
}

/// One container on one bridge network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeConfig {
    /// The network's name, also its bridge's name (checked by [`NetworkName::parse`]).
    pub network: String,
    /// The network's subnet; `None`: the one it has, or [`DEFAULT_SUBNET`] for a new one.
    pub subnet: Option<Subnet>,
    /// The container's name: the key of its allocation and its name in the others' hosts.
    pub container: String,
    /// Its hostname, written to its `/etc/hosts` and `/etc/hostname`.
    pub hostname: String,
    /// Where allocations and the container's files live ([`DEFAULT_STORE`]).
    pub store: PathBuf,
}

impl NetMode {
    /// The name `box inspect` shows: `none`, `host`, `container:NAME` or `bridge`.
    pub fn kind(&self) -> String {
        match self {
            NetMode::None => "none".into(),
            NetMode::Host => "host".into(),
            NetMode::Joined(shown) => shown.clone(),
            NetMode::Bridge(_) => "bridge".into(),
        }
    }
}

/// A network name: it names the host bridge too, so it follows the kernel's interface names
/// (at most 15 bytes) and box's safe alphabet: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkName(String);

/// The longest network (bridge) name the kernel takes: IFNAMSIZ - 1.
pub const MAX_NETWORK_NAME: usize = 15;

impl NetworkName {
    pub fn parse(text: &str) -> Result<NetworkName, String> {
        let mut chars = text.chars();
        let ok = text.len() <= MAX_NETWORK_NAME
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if ok {
            Ok(NetworkName(text.to_string()))
        } else {
            Err(format!(
                "invalid network name {text:?}: use 1 to {MAX_NETWORK_NAME} letters, digits, \
                 '_', '.' or '-', starting with a letter or digit (it names the host's bridge)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IPv4 subnet, `ADDRESS/PREFIX`, with the host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// Parses `10.88.0.0/16`. A network needs a gateway and at least one container, so the
    /// prefix is 8 to 30; the host bits must be zero, so that the text means one thing.
    pub fn parse(text: &str) -> Result<Subnet, String> {
        let bad = |why: &str| format!("invalid subnet {text:?}: {why}");
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| bad("expected ADDRESS/PREFIX, e.g. \"10.88.0.0/16\""))?;
        let base: Ipv4Addr = addr.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| bad("the prefix length must be 8 to 30"))?;
        let subnet = Subnet { base, prefix };
        if u32::from(base) & !subnet.mask() != 0 {
            return Err(bad(&format!(
                "host bits are set: did you mean \"{}/{prefix}\"?",
                Ipv4Addr::from(u32::from(base) & subnet.mask())
            )));
        }
        if base.is_loopback() || base.is_multicast() || base.is_broadcast() || base.octets()[0] == 0
        {
            return Err(bad("not a unicast range a bridge can use"));
        }
        Ok(subnet)
    }

    pub fn mask(&self) -> u32 {
        u32::MAX << (32 - u32::from(self.prefix))
    }

    /// The bridge's own address: the first of the subnet.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + 1)
    }

    /// The addresses containers get (after the gateway, before the broadcast address),
    /// starting after `last` and wrapping around to the first.
    pub fn hosts_after(&self, last: Option<Ipv4Addr>) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.base) + 2;
        let broadcast = u32::from(self.base) | !self.mask();
        let start = last
            .map(|l| u32::from(l).saturating_add(1))
            .filter(|s| (first..broadcast).contains(s))
            .unwrap_or(first);
        (start..broadcast).chain(first..start).map(Ipv4Addr::from)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let mask = self.mask() & other.mask();
        u32::from(self.base) & mask == u32::from(other.base) & mask
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A published port, Docker's `-p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMap {
    /// `None`: every address of the host.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

impl PortMap {
    pub fn parse(text: &str) -> Result<PortMap, String> {
        let bad = |why: &str| {
            format!(
                "invalid port {text:?}: {why} (expected [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp])"
            )
        };
        let (rest, proto) = match text.rsplit_once('/') {
            Some((rest, "tcp")) => (rest, Proto::Tcp),
            Some((rest, "udp")) => (rest, Proto::Udp),
            Some(_) => return Err(bad("the protocol must be tcp or udp")),
            None => (text, Proto::Tcp),
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let (host_ip, host, inside) = match parts[..] {
            [host, inside] => (None, host, inside),
            [ip, host, inside] => {
                let ip: Ipv4Addr = ip
                    .parse()
                    .map_err(|_| bad(&format!("{ip:?} is not an IPv4 address")))?;
                let ip = (!ip.is_unspecified()).then_some(ip);
                (ip, host, inside)
            }
            _ => return Err(bad("wrong number of ':'")),
        };
        let port = |p: &str| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(&format!("{p:?} is not a port from 1 to 65535")))
        };
        Ok(PortMap {
            host_ip,
            host_port: port(host)?,
            container_port: port(inside)?,
            proto,
        })
    }

    /// Whether both cannot be published at once: same protocol and host port, and an address
    /// in common (every address overlaps each one).
    pub fn conflicts(&self, other: &PortMap) -> bool {
        self.proto == other.proto
            && self.host_port == other.host_port
            && (self.host_ip.is_none() || other.host_ip.is_none() || self.host_ip == other.host_ip)
    }
}

impl fmt::Display for PortMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        write!(
            f,
            "{}:{}/{}",
            self.host_port,
            self.container_port,
            self.proto.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_as_docker_writes_them() {
        let p = PortMap::parse("8080:80").unwrap();
        assert_eq!((p.host_ip, p.host_port, p.container_port), (None, 8080, 80));
        assert_eq!(p.proto, Proto::Tcp);
        let p = PortMap::parse("127.0.0.1:5353:53/udp").unwrap();
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p.to_string(), "127.0.0.1:5353:53/udp");
        assert_eq!(PortMap::parse("0.0.0.0:1:2").unwrap().host_ip, None);
        for bad in [
            "80", "0:80", "65536:80", "a:80", "1:2/sctp", "::1:1:2", "1:2:3:4", "",
        ] {
            assert!(PortMap::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conflicts_need_a_common_address() {
        let p = |t| PortMap::parse(t).unwrap();
        assert!(p("8080:80").conflicts(&p("127.0.0.1:8080:81")));
        assert!(!p("127.0.0.2:8080:80").conflicts(&p("127.0.0.1:8080:81")));
        assert!(!p("8080:80").conflicts(&p("8080:80/udp")));
    }

    #[test]
    fn addresses_are_given_round_robin() {
        let s = Subnet::parse("10.9.0.0/29").unwrap();
        let ip = |d| Ipv4Addr::new(10, 9, 0, d);
        let after = |last| s.hosts_after(last).collect::<Vec<_>>();
        assert_eq!(after(None), [2, 3, 4, 5, 6].map(ip));
        assert_eq!(after(Some(ip(4))), [5, 6, 2, 3, 4].map(ip));
        assert_eq!(after(Some(ip(6))), [2, 3, 4, 5, 6].map(ip));
        // An address outside the hosts (the network's record is hostile input too).
        assert_eq!(after(Some(ip(200))), [2, 3, 4, 5, 6].map(ip));
    }

    #[test]
    fn subnets_are_checked() {
        let s = Subnet::parse("10.88.0.0/16").unwrap();
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 88, 0, 1));
        let tiny = Subnet::parse("10.9.0.0/30").unwrap();
        assert_eq!(
            tiny.hosts_after(None).collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 9, 0, 2)]
        );
        assert!(s.overlaps(&Subnet::parse("10.88.7.0/24").unwrap()));
        assert!(!s.overlaps(&Subnet::parse("10.89.0.0/16").unwrap()));
        for bad in [
            "10.88.0.1/16",
            "10.88.0.0",
            "10.88.0.0/31",
            "10.0.0.0/7",
            "127.0.0.0/8",
            "x/8",
        ] {
            assert!(Subnet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn network_names_are_interface_names() {
        assert!(NetworkName::parse("box0").is_ok());
        for bad in ["", "a/b", "..", "-x", "sixteen-chars-xx", "a b"] {
            assert!(NetworkName::parse(bad).is_err(), "{bad}");
        }
    }
}
