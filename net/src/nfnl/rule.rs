//! The bytes of one nf_tables rule: netlink attributes, the expressions of a published
//! port's DNAT rule, and its comment as libnftnl writes it.

use std::net::Ipv4Addr;

use crate::config::{PortMap, Proto};

pub(super) const NLA_F_NESTED: u16 = 0x8000;
pub(super) const NFPROTO_IPV4: u8 = 2;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFT_REG_1: u32 = 1;
const NFT_REG_2: u32 = 2;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_META_L4PROTO: u32 = 16;
const NFT_CMP_EQ: u32 = 0;
const NFT_NAT_DNAT: u32 = 1;
/// libnftnl's user data type of a rule's comment.
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;

/// A netlink attribute list being built.
#[derive(Default)]
pub(super) struct Attrs(pub(super) Vec<u8>);

impl Attrs {
    pub(super) fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.0.extend((len as u16).to_ne_bytes());
        self.0.extend(kind.to_ne_bytes());
        self.0.extend(value);
        self.0.resize(self.0.len().next_multiple_of(4), 0);
        self
    }

    fn u32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.put(kind, &value.to_be_bytes())
    }

    pub(super) fn str(&mut self, kind: u16, value: &str) -> &mut Self {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.put(kind, &bytes)
    }

    pub(super) fn nest(&mut self, kind: u16, inner: &Attrs) -> &mut Self {
        self.put(kind | NLA_F_NESTED, &inner.0)
    }
}

/// One expression: `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { data } }`.
fn expr(list: &mut Attrs, name: &str, data: &Attrs) {
    let mut e = Attrs::default();
    e.str(NFTA_EXPR_NAME, name).nest(NFTA_EXPR_DATA, data);
    list.nest(NFTA_LIST_ELEM, &e);
}

fn load_payload(list: &mut Attrs, base: u32, offset: u32, len: u32) {
    let mut d = Attrs::default();
    d.u32(1, NFT_REG_1).u32(2, base).u32(3, offset).u32(4, len);
    expr(list, "payload", &d);
}

fn compare(list: &mut Attrs, value: &[u8]) {
    let mut data = Attrs::default();
    data.put(NFTA_DATA_VALUE, value);
    let mut d = Attrs::default();
    d.u32(1, NFT_REG_1).u32(2, NFT_CMP_EQ).nest(3, &data);
    expr(list, "cmp", &d);
}

fn immediate(list: &mut Attrs, reg: u32, value: &[u8]) {
    let mut data = Attrs::default();
    data.put(NFTA_DATA_VALUE, value);
    let mut d = Attrs::default();
    d.u32(1, reg).nest(2, &data);
    expr(list, "immediate", &d);
}

/// The expressions of one port's rule.
pub(super) fn port_rule(port: &PortMap, to: Ipv4Addr) -> Attrs {
    let mut list = Attrs::default();
    if let Some(ip) = port.host_ip {
        load_payload(&mut list, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
        compare(&mut list, &ip.octets());
    }
    let mut meta = Attrs::default();
    meta.u32(1, NFT_REG_1).u32(2, NFT_META_L4PROTO);
    expr(&mut list, "meta", &meta);
    let l4: u8 = match port.proto {
        Proto::Tcp => libc::IPPROTO_TCP as u8,
        Proto::Udp => libc::IPPROTO_UDP as u8,
    };
    compare(&mut list, &[l4]);
    load_payload(&mut list, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
    compare(&mut list, &port.host_port.to_be_bytes());
    immediate(&mut list, NFT_REG_1, &to.octets());
    immediate(&mut list, NFT_REG_2, &port.container_port.to_be_bytes());
    let mut nat = Attrs::default();
    nat.u32(1, NFT_NAT_DNAT)
        .u32(2, u32::from(NFPROTO_IPV4))
        .u32(3, NFT_REG_1)
        .u32(5, NFT_REG_2);
    expr(&mut list, "nat", &nat);
    list
}

/// libnftnl's user data: `{ u8 type, u8 len, value }`, the comment with its NUL.
pub(super) fn comment(text: &str) -> Vec<u8> {
    let mut value = text.as_bytes()[..text.len().min(127)].to_vec();
    value.push(0);
    let mut tlv = vec![NFTNL_UDATA_RULE_COMMENT, value.len() as u8];
    tlv.extend(value);
    tlv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_comments_are_libnftnls_tlv() {
        let mut a = Attrs::default();
        a.str(1, "box");
        assert_eq!(a.0, [8, 0, 1, 0, b'b', b'o', b'x', 0]);
        a.put(2, &[1]);
        assert_eq!(a.0.len(), 16);
        assert_eq!(comment("ab"), [0, 3, b'a', b'b', 0]);
    }
}
