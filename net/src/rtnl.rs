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

/// The answer to request `seq` among the messages of `buf`: `Some(Ok)` for its ACK,
/// `Some(Err(errno))` for its error, `None` when it is not there. Only the header and the
/// error code are read (`struct nlmsghdr`, then `struct nlmsgerr`'s `int error`): box asks
/// for nothing else, and parsing every route message type would cost binary size.
fn acknowledgement(buf: &[u8], seq: u32) -> Option<Result<(), Errno>> {
    const HEADER: usize = 16;
    const NLMSG_ERROR: u16 = 2;
    let mut offset = 0;
    while offset + HEADER <= buf.len() {
        let word = |at: usize| u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or([0; 4]));
        let len = word(offset) as usize;
        let kind = u16::from_ne_bytes([buf[offset + 4], buf[offset + 5]]);
        let msg_seq = word(offset + 8);
        if len < HEADER || offset + len > buf.len() {
            return Some(Err(Errno::EBADMSG));
        }
        if kind == NLMSG_ERROR && msg_seq == seq {
            if len < HEADER + 4 {
                return Some(Err(Errno::EBADMSG));
            }
            let code = word(offset + HEADER) as i32;
            return Some(if code == 0 {
                Ok(())
            } else {
                Err(Errno::from_raw(-code))
            });
        }
        // Messages are 4-byte aligned (NLMSG_ALIGN).
        offset += (len + 3) & !3;
    }
    None
}

/// A route netlink socket of the calling process's net namespace (close-on-exec), opened at
/// its first request: most releases and starts on an existing network send none.
pub(crate) struct Rtnl {
    socket: Option<Socket>,
    seq: u32,
    buf: Vec<u8>,
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

fn open_socket() -> Result<Socket, Error> {
    let sys = |e: std::io::Error| Error::Netlink {
        what: "open a netlink socket".into(),
        errno: io_errno(&e),
    };
    let mut socket = Socket::new(NETLINK_ROUTE).map_err(sys)?;
    socket.bind_auto().map_err(sys)?;
    socket.connect(&SocketAddr::new(0, 0)).map_err(sys)?;
    Ok(socket)
}

impl Rtnl {
    /// Nothing opened yet: the socket is of the namespace the first request is made in.
    pub(crate) fn new() -> Rtnl {
        Rtnl {
            socket: None,
            seq: 0,
            buf: Vec::new(),
        }
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
        let socket = match &mut self.socket {
            Some(socket) => socket,
            slot @ None => {
                self.buf = vec![0; 16 * 1024];
                slot.insert(open_socket()?)
            }
        };
        socket.send(&out, 0).map_err(|e| fail(io_errno(&e)))?;
        loop {
            let n = socket
                .recv(&mut &mut self.buf[..], 0)
                .map_err(|e| fail(io_errno(&e)))?;
            if let Some(answer) = acknowledgement(&self.buf[..n], self.seq) {
                return answer.map_err(fail);
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

    /// Brings the link `name` up. Named in the request (index 0), which the kernel resolves
    /// itself: no separate lookup of the index (`if_nametoindex` makes a socket for it).
    pub(crate) fn set_up(&mut self, name: &str) -> Result<(), Error> {
        let mut link = LinkMessage::default();
        link.attributes.push(LinkAttribute::IfName(name.into()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len() as u32;
        let mut m = Vec::new();
        m.extend(len.to_ne_bytes());
        m.extend(kind.to_ne_bytes());
        m.extend(0u16.to_ne_bytes());
        m.extend(seq.to_ne_bytes());
        m.extend(0u32.to_ne_bytes());
        m.extend(payload);
        m
    }

    #[test]
    fn the_answer_to_a_request_is_found_by_its_sequence_number() {
        let ack = message(2, 7, &0i32.to_ne_bytes());
        let nack = message(2, 8, &(-libc::EEXIST).to_ne_bytes());
        let other = message(16, 7, &[0; 8]);
        let mut both = other.clone();
        both.extend(&ack);
        assert_eq!(acknowledgement(&both, 7), Some(Ok(())));
        assert_eq!(acknowledgement(&nack, 8), Some(Err(Errno::EEXIST)));
        assert_eq!(acknowledgement(&ack, 8), None);
        assert_eq!(acknowledgement(&ack[..10], 7), None);
        let mut lying = ack.clone();
        lying[0] = 200;
        assert_eq!(acknowledgement(&lying, 7), Some(Err(Errno::EBADMSG)));
    }
}
