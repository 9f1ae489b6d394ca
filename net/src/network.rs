//! A bridge network on the host, made by its first container and removed with its last:
//! the bridge (named as the network) with the gateway address, the kernel settings it needs,
//! and its rules in box's nftables table.

use crate::config::Subnet;
use crate::rtnl::Rtnl;
use crate::store::{Locked, NetworkRecord};
use crate::{nft, Error};

fn sysctl(path: &str, value: &str) -> Result<(), Error> {
    std::fs::write(path, value).map_err(|e| Error::Sysctl {
        path: path.to_string(),
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })
}

/// Makes the network `name`: everything or, when a step fails, nothing.
pub(crate) fn create(
    store: &Locked,
    rtnl: &mut Rtnl,
    name: &str,
    subnet: &Subnet,
) -> Result<(), Error> {
    let fail = |message: String| Error::Network {
        network: name.to_string(),
        message,
    };
    let others = store.networks()?;
    for other in others.iter().filter(|o| *o != name) {
        if let Some(rec) = store.network(other)? {
            if rec.subnet.overlaps(subnet) {
                return Err(fail(format!(
                    "subnet {subnet} overlaps network {other}'s {}",
                    rec.subnet
                )));
            }
        }
    }
    if rtnl.index(name).is_ok() {
        return Err(fail(format!(
            "the host already has an interface named {name}, which box did not make: \
             name the network otherwise"
        )));
    }
    rtnl.add_bridge(name)?;
    let made = (|| {
        rtnl.add_address(name, subnet.gateway(), subnet.prefix)?;
        // A port published on 127.0.0.1 is DNATed to the bridge: the kernel must route a
        // loopback source there (Docker does the same without its userland proxy).
        sysctl(
            &format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"),
            "1",
        )?;
        rtnl.set_up(name)?;
        // Outbound traffic is forwarded, as Docker enables it.
        sysctl("/proc/sys/net/ipv4/ip_forward", "1")?;
        if others.iter().any(|o| o != name) {
            nft::add_network(name, subnet, name)?;
        } else {
            nft::create_table(name, subnet, name)?;
        }
        store.create_network(
            name,
            &NetworkRecord {
                subnet: *subnet,
                last: None,
            },
        )
    })();
    if made.is_err() {
        let _ = rtnl.delete(name);
        let _ = store.remove_network(name);
    }
    made
}

/// Removes the network `name`: its rules (the whole table when it was the last), its bridge,
/// its directory. Every step is tried; the first error is returned.
pub(crate) fn remove(store: &Locked, rtnl: &mut Rtnl, name: &str) -> Result<(), Error> {
    let last = store.networks()?.iter().all(|n| n == name);
    let rules = if last {
        nft::delete_table()
    } else {
        nft::remove_network(name)
    };
    let bridge = rtnl.delete(name);
    let dir = store.remove_network(name);
    rules.and(bridge).and(dir)
}
