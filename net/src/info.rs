//! What `box inspect` shows of a bridged container's network, read from the store.

use std::net::Ipv4Addr;
use std::path::Path;

use serde::Serialize;

use crate::config::{PortMap, Subnet};
use crate::rtnl::Rtnl;
use crate::store::{Locked, Record};
use crate::{Error, CONTAINER_INTERFACE};

/// A bridged container's place on its network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Info {
    pub network: String,
    /// Inside the container.
    pub interface: String,
    /// Its end on the host, attached to the bridge.
    pub host_interface: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub ports: Vec<String>,
}

impl Info {
    pub(crate) fn of(network: &str, subnet: &Subnet, record: &Record) -> Info {
        Info {
            network: network.to_string(),
            interface: CONTAINER_INTERFACE.to_string(),
            host_interface: record.host_veth.clone(),
            address: record.address,
            prefix: subnet.prefix,
            gateway: subnet.gateway(),
            ports: record.ports.iter().map(PortMap::to_string).collect(),
        }
    }
}

/// The place of `container` on `network`, if it has one (read without the lock: a record is
/// replaced whole, never seen half-written).
pub fn lookup(store: &Path, network: &str, container: &str) -> Option<Info> {
    let locked_free = store.join(network);
    let text = std::fs::read_to_string(locked_free.join(format!("{container}.json"))).ok()?;
    let record: Record = serde_json::from_str(&text).ok()?;
    let net: crate::store::NetworkRecord =
        serde_json::from_str(&std::fs::read_to_string(locked_free.join("network.json")).ok()?)
            .ok()?;
    Some(Info::of(network, &net.subnet, &record))
}

/// Reclaims what killed boxes left in the store at `store` (their links, rules, addresses),
/// and removes networks left without containers.
pub fn sweep(store: &Path) -> Result<(), Error> {
    if !store.exists() {
        return Ok(());
    }
    let locked = Locked::open(store)?;
    let mut rtnl = Rtnl::new();
    crate::sweep::stale(&locked, &mut rtnl)
}
