//! rtnetlink, synchronously: one `NETLINK_ROUTE` socket, one request at a time, each
//! acknowledged. `netlink-packet-route` builds and parses the messages; no async runtime, no
//! `ip` process.

use std::net::Ipv4Addr;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;

use crate::Error;

/// A route netlink socket of the calling process's net namespace (close-on-exec).
pub(crate) struct Rtnl {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

impl Rtnl {
    pub(crate) fn open() -> Result<Rtnl, Error> {
        let sys = |e: std::io::Error| Error::Netlink {
            what: "open a netlink socket".into(),
            errno: io_errno(&e),
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(sys)?;
        socket.bind_auto().map_err(sys)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(sys)?;
        Ok(Rtnl {
            socket,
            seq: 0,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Sends one request and waits for its acknowledgement; `what` names it in errors.
    fn request(&mut self, what: &str, msg: RouteNetlinkMessage, flags: u16) -> Result<(), Error> {
        let fail = |errno| Error::Netlink {
            what: what.to_string(),
            errno,
        };
        self.seq += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket.send(&out, 0).map_err(|e| fail(io_errno(&e)))?;
        loop {
            let n = self
                .socket
                .recv(&mut &mut self.buf[..], 0)
                .map_err(|e| fail(io_errno(&e)))?;
            let mut offset = 0;
            while offset < n {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[offset..n])
                        .map_err(|_| fail(Errno::EBADMSG))?;
                let len = reply.header.length as usize;
                if reply.header.sequence_number == self.seq {
                    if let NetlinkPayload::Error(e) = reply.payload {
                        return match e.code {
                            None => Ok(()),
                            Some(code) => Err(fail(Errno::from_raw(-code.get()))),
                        };
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    /// Creates a bridge, down, with no address yet.
    pub(crate) fn add_bridge(&mut self, name: &str) -> Result<(), Error> {
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName(name.into()));
        link.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            &format!("create bridge {name}"),
            RouteNetlinkMessage::NewLink(link),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Creates a veth pair in one message: `host` in this namespace, attached to `bridge` and
    /// up; its peer created directly in the net namespace of `pid`, named `peer` there.
    pub(crate) fn add_veth(
        &mut self,
        host: &str,
        bridge: &str,
        peer: &str,
        pid: i32,
    ) -> Result<(), Error> {
        let bridge_index = self.index(bridge)?;
        let mut inside = LinkMessage::default();
        inside.attributes.push(LinkAttribute::IfName(peer.into()));
        inside
            .attributes
            .push(LinkAttribute::NetNsPid(pid.unsigned_abs()));
        let mut link = LinkMessage::default();
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        link.attributes.push(LinkAttribute::IfName(host.into()));
        link.attributes
            .push(LinkAttribute::Controller(bridge_index));
        link.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(inside))),
        ]));
        self.request(
            &format!("create veth {host} on {bridge} with {peer} in the container"),
            RouteNetlinkMessage::NewLink(link),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// The index of the link `name`; `ENODEV` when there is none.
    pub(crate) fn index(&mut self, name: &str) -> Result<u32, Error> {
        nix::net::if_::if_nametoindex(name).map_err(|errno| Error::Netlink {
            what: format!("find link {name}"),
            errno: if errno == Errno::ENXIO {
                Errno::ENODEV
            } else {
                errno
            },
        })
    }

    /// Brings the link `name` up.
    pub(crate) fn set_up(&mut self, name: &str) -> Result<(), Error> {
        let mut link = LinkMessage::default();
        link.header.index = self.index(name)?;
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        self.request(
            &format!("bring {name} up"),
            RouteNetlinkMessage::SetLink(link),
            0,
        )
    }

    /// Deletes the link `name`; one that is already gone is not an error.
    pub(crate) fn delete(&mut self, name: &str) -> Result<(), Error> {
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName(name.into()));
        match self.request(
            &format!("delete link {name}"),
            RouteNetlinkMessage::DelLink(link),
            0,
        ) {
            Err(Error::Netlink {
                errno: Errno::ENODEV,
                ..
            }) => Ok(()),
            other => other,
        }
    }

    /// Adds `ip/prefix` to the link `name`.
    pub(crate) fn add_address(
        &mut self,
        name: &str,
        ip: Ipv4Addr,
        prefix: u8,
    ) -> Result<(), Error> {
        let mut addr = AddressMessage::default();
        addr.header.family = AddressFamily::Inet;
        addr.header.prefix_len = prefix;
        addr.header.index = self.index(name)?;
        addr.attributes.push(AddressAttribute::Local(ip.into()));
        addr.attributes.push(AddressAttribute::Address(ip.into()));
        let broadcast = u32::from(ip) | (u32::MAX >> prefix);
        addr.attributes
            .push(AddressAttribute::Broadcast(Ipv4Addr::from(broadcast)));
        self.request(
            &format!("add address {ip}/{prefix} to {name}"),
            RouteNetlinkMessage::NewAddress(addr),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Adds the default route via `gateway`.
    pub(crate) fn add_default_route(&mut self, gateway: Ipv4Addr) -> Result<(), Error> {
        let mut route = RouteMessage::default();
        route.header.address_family = AddressFamily::Inet;
        route.header.table = libc::RT_TABLE_MAIN;
        route.header.protocol = RouteProtocol::Boot;
        route.header.scope = RouteScope::Universe;
        route.header.kind = RouteType::Unicast;
        route
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        self.request(
            &format!("add default route via {gateway}"),
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }
}
