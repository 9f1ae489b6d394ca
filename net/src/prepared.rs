//! The layer's steps: `check` and `prepare` (nothing made), `create` (the network, an address,
//! the container's files, its published ports: an [`Attachment`] to undo), the parent's step
//! after the clone ([`Attachment::attach`]: the veth), and the child's ([`Inside::apply`]).

use std::cell::Cell;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::config::{BridgeConfig, NetConfig, NetMode, NetworkName, Subnet, DEFAULT_SUBNET};
use crate::netns::NetnsId;
use crate::rtnl::Rtnl;
use crate::store::{Locked, NetworkRecord, Owner, Record};
use crate::sweep::{Kept, Link};
use crate::{files, network, nft, sweep, Error};

/// The name of the container's end of its veth.
pub const CONTAINER_INTERFACE: &str = "eth0";

/// Everything `prepare` refuses, without side effects. `new_netns`: whether the container
/// gets a net namespace of its own (`none` and `bridge` need one; the others must not).
pub fn check(config: &NetConfig, new_netns: bool) -> Result<(), Error> {
    let invalid = |m: &str| Err(Error::Invalid(m.to_string()));
    match &config.mode {
        NetMode::None | NetMode::Bridge(_) if !new_netns => {
            return invalid(
                "network modes none and bridge need a net namespace of the container's own",
            )
        }
        NetMode::Host | NetMode::Joined(_) if new_netns => {
            return invalid(
                "network modes host and container:NAME use another net namespace, not a new one",
            )
        }
        _ => {}
    }
    if !config.ports.is_empty() && !matches!(config.mode, NetMode::Bridge(_)) {
        return invalid("published ports need network mode bridge");
    }
    for (i, a) in config.ports.iter().enumerate() {
        if let Some(b) = config.ports[..i].iter().find(|b| a.conflicts(b)) {
            return Err(Error::Invalid(format!(
                "ports {b} and {a} publish the same host port"
            )));
        }
    }
    if let NetMode::Bridge(b) = &config.mode {
        NetworkName::parse(&b.network).map_err(Error::Invalid)?;
        let name_ok = !b.container.is_empty()
            && b.container.len() <= 64
            && b.container.starts_with(|c: char| c.is_ascii_alphanumeric())
            && b.container
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !name_ok {
            return Err(Error::Invalid(format!(
                "invalid container name {:?}",
                b.container
            )));
        }
        if b.hostname.is_empty() || b.hostname.chars().any(|c| c.is_whitespace() || c == '#') {
            return Err(Error::Invalid(format!("invalid hostname {:?}", b.hostname)));
        }
        if !b.store.is_absolute() {
            return invalid("the network store must be an absolute path");
        }
    }
    Ok(())
}

/// The network, checked, before anything is made.
#[derive(Debug, Clone)]
pub struct Prepared {
    config: NetConfig,
}

pub fn prepare(config: &NetConfig, new_netns: bool) -> Result<Prepared, Error> {
    check(config, new_netns)?;
    Ok(Prepared {
        config: config.clone(),
    })
}

/// What the child does in its net namespace.
#[derive(Debug, Clone, Default)]
pub struct Inside {
    loopback: bool,
    /// `eth0`'s address, prefix length and the gateway.
    eth0: Option<(Ipv4Addr, u8, Ipv4Addr)>,
}

impl Inside {
    /// Child, in its net namespace (with CAP_NET_ADMIN there): `lo` up; for a bridged
    /// container `eth0`'s address, `eth0` up and the default route.
    pub fn apply(&self) -> Result<(), Error> {
        if !self.loopback && self.eth0.is_none() {
            return Ok(());
        }
        let mut rtnl = Rtnl::new();
        if self.loopback {
            rtnl.set_up("lo")?;
        }
        if let Some((addr, prefix, gateway)) = self.eth0 {
            rtnl.add_address(CONTAINER_INTERFACE, addr, prefix)?;
            rtnl.set_up(CONTAINER_INTERFACE)?;
            rtnl.add_default_route(gateway)?;
        }
        Ok(())
    }
}

impl Prepared {
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Parent, before the clone: for a bridged container, its network (made by the first
    /// container), an address, its files and its published ports. `None` for other modes.
    pub fn create(&self) -> Result<Option<Attachment>, Error> {
        match &self.config.mode {
            NetMode::Bridge(b) => Attachment::create(b, &self.config).map(Some),
            _ => Ok(None),
        }
    }

    /// What the child does, given what `create` made.
    pub fn inside(&self, attachment: Option<&Attachment>) -> Inside {
        Inside {
            loopback: matches!(self.config.mode, NetMode::None | NetMode::Bridge(_)),
            eth0: attachment.map(|a| (a.record.address, a.subnet.prefix, a.subnet.gateway())),
        }
    }
}

/// A bridged container's place on its network: released (link, rules, address, files, and the
/// network with its last container) by [`Attachment::release`].
#[derive(Debug)]
pub struct Attachment {
    store: PathBuf,
    network: String,
    subnet: Subnet,
    record: Record,
    released: Cell<bool>,
    /// The container's net namespace, once attached.
    netns: Cell<Option<NetnsId>>,
}

impl Attachment {
    fn create(b: &BridgeConfig, config: &NetConfig) -> Result<Attachment, Error> {
        let store = Locked::open(&b.store)?;
        let mut rtnl = Rtnl::new();
        // What killed boxes left: reclaimed here, but never a reason to fail this start (what
        // could not be released keeps its address, and `box rm` of its container tries again).
        let (_, kept) = sweep::stale_keeping(&store, &mut rtnl);
        let network = b.network.clone();
        let net_record = match (store.network(&network)?, b.subnet) {
            (Some(rec), Some(want)) if rec.subnet != want => {
                return Err(Error::Network {
                    network,
                    message: format!(
                        "its subnet is {}, not {want}: the first container made it",
                        rec.subnet
                    ),
                })
            }
            (Some(rec), _) => rec,
            (None, want) => {
                let subnet = match want {
                    Some(s) => s,
                    None => Subnet::parse(DEFAULT_SUBNET).map_err(Error::Invalid)?,
                };
                network::create(&store, &mut rtnl, &network, &subnet)?;
                NetworkRecord { subnet, last: None }
            }
        };
        let made = Self::join(&store, &mut rtnl, b, config, net_record, kept);
        if made.is_err() && store.records(&network)?.is_empty() {
            let _ = network::remove(&store, &mut rtnl, &network);
        }
        made
    }

    /// Takes an address and publishes the ports, on an existing network. `kept` is every
    /// network's records as the sweep left them (read again when it could not read them).
    fn join(
        store: &Locked,
        rtnl: &mut Rtnl,
        b: &BridgeConfig,
        config: &NetConfig,
        mut net_record: NetworkRecord,
        kept: Option<Kept>,
    ) -> Result<Attachment, Error> {
        let subnet = net_record.subnet;
        let all = match kept {
            Some(all) => all,
            None => store
                .networks()?
                .into_iter()
                .map(|n| store.records(&n).map(|r| (n, r)))
                .collect::<Result<Kept, Error>>()?,
        };
        let records = all.get(&b.network).cloned().unwrap_or_default();
        if records.iter().any(|r| r.container == b.container) {
            return Err(Error::NameInUse {
                container: b.container.clone(),
                network: b.network.clone(),
            });
        }
        for other in all.values().flatten() {
            for mine in &config.ports {
                if other.ports.iter().any(|p| p.conflicts(mine)) {
                    return Err(Error::PortInUse {
                        port: mine.to_string(),
                        container: other.container.clone(),
                    });
                }
            }
        }
        let address = subnet
            .hosts_after(net_record.last)
            .find(|a| records.iter().all(|r| r.address != *a))
            .ok_or_else(|| Error::Exhausted {
                network: b.network.clone(),
                subnet: subnet.to_string(),
            })?;
        net_record.last = Some(address);
        store.update_network(&b.network, &net_record)?;
        let paths = files::paths(&b.store, &b.network, &b.container);
        let mut record = Record {
            container: b.container.clone(),
            hostname: b.hostname.clone(),
            address,
            owner: Owner::me()?,
            host_veth: host_veth_name(address),
            ports: config.ports.clone(),
            rule_handles: Vec::new(),
            hosts_file: paths[0].clone(),
        };
        // The record first: from here on a killed box leaves something the sweep finds.
        store.write_record(&b.network, &record)?;
        let mut attachment = Attachment {
            store: b.store.clone(),
            network: b.network.clone(),
            subnet,
            record: record.clone(),
            released: Cell::new(false),
            netns: Cell::new(None),
        };
        let published = (|| {
            files::create(&paths, &record, &records)?;
            // The others learn this container's name; its own file was just written.
            let mut all = records.clone();
            all.push(record.clone());
            files::rewrite_hosts(&records, &all)?;
            if !config.ports.is_empty() {
                let comment = nft::port_comment(&b.network, &b.container);
                record.rule_handles = nft::add_ports(&comment, address, &config.ports)?;
                attachment.record.rule_handles = record.rule_handles.clone();
                store.update_record(&b.network, &record)?;
            }
            Ok(())
        })();
        match published {
            Ok(()) => Ok(attachment),
            Err(e) => {
                let _ = sweep::release(store, rtnl, &b.network, &attachment.record, Link::Delete);
                attachment.released.set(true);
                Err(e)
            }
        }
    }

    /// Parent, after the clone, before "go": the veth, its host end on the bridge and up,
    /// its other end made directly in the container's net namespace as `eth0`.
    pub fn attach(&self, pid: i32) -> Result<(), Error> {
        self.netns.set(NetnsId::of_pid(pid));
        Rtnl::new().add_veth(
            &self.record.host_veth,
            &self.network,
            CONTAINER_INTERFACE,
            pid,
        )
    }

    /// `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` for the container: (host file,
    /// path inside).
    pub fn mounts(&self) -> Vec<(PathBuf, &'static str)> {
        let paths = files::paths(&self.store, &self.network, &self.record.container);
        paths.into_iter().zip(files::TARGETS).collect()
    }

    /// What `box inspect` shows.
    pub fn info(&self) -> crate::Info {
        crate::Info::of(&self.network, &self.subnet, &self.record)
    }

    /// Removes everything `create` and `attach` made; the network goes with its last
    /// container. Once: a second call does nothing.
    pub fn release(&self) -> Result<(), Error> {
        if self.released.replace(true) {
            return Ok(());
        }
        // Left to die with the container's namespace unless something else holds it (see
        // crate::background); a namespace never known (no attach) has no veth to delete.
        let link = match self.netns.get() {
            Some(ns) => Link::IfHeld(ns),
            None => Link::Delete,
        };
        let store = Locked::open(&self.store)?;
        let mut rtnl = Rtnl::new();
        sweep::release(&store, &mut rtnl, &self.network, &self.record, link)
    }
}

/// A unique name for a veth's host end: `vb`, the address in hex (so a network's links are
/// found by its subnet), and 16 random bits, so a new container never meets the link of an
/// old one with the same address that its namespace is still taking down.
fn host_veth_name(address: Ipv4Addr) -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS's randomness: no dependency for 16 bits.
    let nonce = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u16;
    format!("vb{:08x}{nonce:04x}", u32::from(address))
}
