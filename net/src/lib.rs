//! box's network layer: a container's own net namespace with only `lo` (`none`), the host's
//! (`host`), another container's (`container:NAME`), or its own on a Linux bridge (`bridge`):
//! a veth pair whose container end becomes `eth0`, an address from the network's subnet
//! (allocated under a lock, released with the container), `/etc/hosts` naming the network's
//! containers, outbound masquerading and published ports in box's own nftables table.
//!
//! Links, addresses and routes go through rtnetlink (`netlink-packet-route` over a
//! synchronous `netlink-sys` socket: no async runtime, no `ip`); nftables through libnftables'
//! JSON (`nft -j`) for the table and each network's rules, and over nf_tables netlink for a
//! container's published ports (no process per start). See docs/network.md.
//!
//! The layer's steps, as the launcher calls them:
//!
//! ```text
//! front end  check(&NetConfig, new_netns)
//! parent     prepare -> Prepared            nothing made
//!            Prepared::create -> Attachment network (first container), address, files,
//!                                           published ports · undo: Attachment::release
//! parent     Attachment::attach(pid)        veth: host end on the bridge, eth0 in the child
//! child      Inside::apply                  lo up · eth0 address, up · default route
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod background;
mod config;
mod error;
mod files;
mod info;
mod netns;
mod network;
mod nfnl;
mod nft;
mod prepared;
mod rtnl;
mod store;
mod sweep;

pub use config::{
    BridgeConfig, NetConfig, NetMode, NetworkName, PortMap, Proto, Subnet, DEFAULT_NETWORK,
    DEFAULT_STORE, DEFAULT_SUBNET, MAX_NETWORK_NAME,
};
pub use error::Error;
pub use info::{lookup, sweep, Info};
pub use nft::TABLE as NFT_TABLE;
pub use prepared::{check, prepare, Attachment, Inside, Prepared, CONTAINER_INTERFACE};
