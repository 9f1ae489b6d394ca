//! Releasing a container's place on its network, and reclaiming the places of containers
//! whose box was killed (`kill -9` runs no undo stack): their owner process is gone.

use std::collections::BTreeMap;

use crate::background::{self, Leftovers};
use crate::netns::NetnsId;
use crate::rtnl::Rtnl;
use crate::store::{Locked, Record};
use crate::{files, network, nft, Error};

/// What becomes of a released container's veth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Deleted now (the container's end goes with it).
    Delete,
    /// Deleted by the closer if a process is still in this namespace; otherwise left to the
    /// kernel, which removes the pair with the namespace.
    IfHeld(NetnsId),
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
    let mut leftovers = Leftovers::default();
    let link = match link {
        Link::Delete => rtnl.delete(&record.host_veth),
        Link::IfHeld(netns) => {
            leftovers.veth = Some((netns, record.host_veth.clone()));
            Ok(())
        }
    };
    let rules = if !record.rule_handles.is_empty() {
        nft::delete_ports(&record.rule_handles)
    } else if !record.ports.is_empty() {
        // Killed between adding its rules and recording their handles.
        nft::rules_with_comment("ports", &nft::port_comment(net, &record.container))
            .and_then(|handles| nft::delete_ports(&handles))
    } else {
        Ok(None)
    };
    let rules = rules.map(|socket| leftovers.socket = socket);
    // Started before the files go, so that its look through /proc overlaps them.
    background::finish(leftovers);
    files::remove(&files::paths(store.root(), net, &record.container));
    let rec = store.remove_record(net, &record.container);
    let rest = store.records(net);
    let rest = match rest {
        Ok(rest) if rest.is_empty() => network::remove(store, rtnl, net),
        Ok(rest) => files::rewrite_hosts(&rest, &rest),
        Err(e) => Err(e),
    };
    link.and(rules).and(rec).and(rest)
}

/// Each network's records once the sweep is done, by network name: those whose owner lives,
/// and any whose release failed (they keep their address).
pub(crate) type Kept = BTreeMap<String, Vec<Record>>;

/// Releases every record whose owner is gone, and removes networks left without containers.
/// Every one is tried; the first error is returned.
pub(crate) fn stale(store: &Locked, rtnl: &mut Rtnl) -> Result<(), Error> {
    stale_keeping(store, rtnl).0
}

/// [`stale`], and what it kept, so that a start reads the store once: `None` when a network's
/// records could not be read.
pub(crate) fn stale_keeping(store: &Locked, rtnl: &mut Rtnl) -> (Result<(), Error>, Option<Kept>) {
    let networks = match store.networks() {
        Ok(networks) => networks,
        Err(e) => return (Err(e), None),
    };
    let mut first = Ok(());
    let mut kept = Some(Kept::new());
    for net in networks {
        let records = match store.records(&net) {
            Ok(records) => records,
            Err(e) => {
                first = first.and(Err(e));
                kept = None;
                continue;
            }
        };
        let was_empty = records.is_empty();
        let mut live = Vec::new();
        for record in records {
            if record.owner.alive() {
                live.push(record);
            } else if let Err(e) = release(store, rtnl, &net, &record, Link::Delete) {
                first = first.and(Err(e));
                live.push(record);
            }
        }
        if was_empty && store.network(&net).is_ok_and(|n| n.is_some()) {
            first = first.and(network::remove(store, rtnl, &net));
        }
        if let Some(kept) = kept.as_mut() {
            kept.insert(net, live);
        }
    }
    (first, kept)
}
