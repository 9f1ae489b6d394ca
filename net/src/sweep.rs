//! Releasing a container's place on its network, and reclaiming the places of containers
//! whose box was killed (`kill -9` runs no undo stack): their owner process is gone.

use crate::rtnl::Rtnl;
use crate::store::{Locked, Record};
use crate::{files, network, nft, Error};

/// What becomes of a released container's veth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Deleted now (the container's end goes with it).
    Delete,
    /// Left to the kernel, which removes the pair with the container's net namespace.
    LeftToNamespace,
}

/// Removes what `record` holds: its veth (as `link` says), its published ports, its files,
/// its address; the network too when it was the last. Every step is tried; the first error is
/// returned.
pub(crate) fn release(
    store: &Locked,
    rtnl: &mut Rtnl,
    net: &str,
    record: &Record,
    link: Link,
) -> Result<(), Error> {
    let link = match link {
        Link::Delete => rtnl.delete(&record.host_veth),
        Link::LeftToNamespace => Ok(()),
    };
    let rules = if !record.rule_handles.is_empty() {
        nft::delete_ports(&record.rule_handles)
    } else if !record.ports.is_empty() {
        // Killed between adding its rules and recording their handles.
        nft::rules_with_comment("ports", &nft::port_comment(net, &record.container))
            .and_then(|handles| nft::delete_ports(&handles))
    } else {
        Ok(())
    };
    if let Some(dir) = record.hosts_file.parent() {
        files::remove(dir);
    }
    let rec = store.remove_record(net, &record.container);
    let rest = store.records(net);
    let rest = match rest {
        Ok(rest) if rest.is_empty() => network::remove(store, rtnl, net),
        Ok(rest) => files::rewrite_hosts(&rest, &rest),
        Err(e) => Err(e),
    };
    link.and(rules).and(rec).and(rest)
}

/// Releases every record whose owner is gone, and removes networks left without containers.
/// Every one is tried; the first error is returned.
pub(crate) fn stale(store: &Locked, rtnl: &mut Rtnl) -> Result<(), Error> {
    let mut first = Ok(());
    for net in store.networks()? {
        let records = match store.records(&net) {
            Ok(records) => records,
            Err(e) => {
                first = first.and(Err(e));
                continue;
            }
        };
        for record in records.iter().filter(|r| !r.owner.alive()) {
            first = first.and(release(store, rtnl, &net, record, Link::Delete));
        }
        if records.is_empty() && store.network(&net).is_ok_and(|n| n.is_some()) {
            first = first.and(network::remove(store, rtnl, &net));
        }
    }
    first
}
