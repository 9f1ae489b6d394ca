//! nf_tables over netlink, in box's own process, for the two changes every container with
//! published ports makes: adding its DNAT rules to `ip box`'s `ports` chain (their handles
//! echoed back) and deleting them by handle. No `nft` process on that path. The table, its
//! chains and a network's rules (made once per network, with the `fib` match) still go
//! through nft's JSON ([`crate::nft`]).
//!
//! A rule is what `nft` itself sends for `[ip daddr A] tcp dport P dnat to B:Q comment "C"`:
//!
//! ```text
//! [ payload load 4b @ network header + 16 => reg 1 ] [ cmp eq reg 1 A ]     (with a host IP)
//! [ meta load l4proto => reg 1 ]                     [ cmp eq reg 1 6|17 ]
//! [ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 P ]
//! [ immediate reg 1 B ] [ immediate reg 2 Q ] [ nat dnat ip addr_min reg 1 proto_min reg 2 ]
//! userdata: comment C (libnftnl's TLV), so that `nft list` shows it
//! ```

mod rule;

use std::net::Ipv4Addr;
use std::time::Duration;

use netlink_sys::{Socket, SocketAddr};
use nix::errno::Errno;

use crate::config::PortMap;
use crate::Error;
use rule::{comment, port_rule, Attrs, NFPROTO_IPV4, NLA_F_NESTED};

pub(crate) const NETLINK_NETFILTER: isize = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_DELRULE: u16 = 8;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
// struct nft_rule attributes (linux/netfilter/nf_tables.h).
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;

fn fail(what: &str) -> impl Fn(Errno) -> Error + '_ {
    move |errno| Error::Netlink {
        what: format!("nftables: {what}"),
        errno,
    }
}

/// A batch of nf_tables messages, each acknowledged.
struct Batch {
    buf: Vec<u8>,
    seqs: Vec<u32>,
    next: u32,
}

impl Batch {
    fn new() -> Batch {
        let mut batch = Batch {
            buf: Vec::new(),
            seqs: Vec::new(),
            next: 1,
        };
        batch.message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, &[]);
        batch
    }

    fn message(&mut self, kind: u16, flags: u16, family: u8, attrs: &[u8]) -> u32 {
        let seq = self.next;
        self.next += 1;
        let len = 16 + 4 + attrs.len();
        self.buf.extend((len as u32).to_ne_bytes());
        self.buf.extend(kind.to_ne_bytes());
        self.buf.extend(flags.to_ne_bytes());
        self.buf.extend(seq.to_ne_bytes());
        self.buf.extend(0u32.to_ne_bytes());
        // struct nfgenmsg: family, version, res_id (the subsystem, for the batch markers).
        self.buf.push(family);
        self.buf.push(0);
        let res_id = if family == 0 { NFNL_SUBSYS_NFTABLES } else { 0 };
        self.buf.extend(res_id.to_be_bytes());
        self.buf.extend(attrs);
        seq
    }

    fn rule(&mut self, kind: u16, flags: u16, attrs: &Attrs) {
        let seq = self.message(
            (NFNL_SUBSYS_NFTABLES << 8) | kind,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            NFPROTO_IPV4,
            &attrs.0,
        );
        self.seqs.push(seq);
    }

    /// Sends the batch; returns the handles of the rules the kernel echoed, and the socket.
    fn send(mut self, what: &str) -> Result<(Vec<u64>, Socket), Error> {
        self.message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, &[]);
        let io =
            |e: std::io::Error| fail(what)(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)));
        let mut socket = Socket::new(NETLINK_NETFILTER).map_err(io)?;
        socket.bind_auto().map_err(io)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(io)?;
        set_receive_timeout(&socket, Duration::from_secs(5)).map_err(fail(what))?;
        socket.send(&self.buf, 0).map_err(io)?;
        let mut handles = Vec::new();
        let mut pending = self.seqs.clone();
        let mut buf = vec![0u8; 64 * 1024];
        while !pending.is_empty() {
            let n = socket.recv(&mut &mut buf[..], 0).map_err(io)?;
            read_answers(&buf[..n], &mut pending, &mut handles).map_err(fail(what))?;
        }
        Ok((handles, socket))
    }
}

/// A receive that cannot hang box forever if the kernel never answers.
fn set_receive_timeout(socket: &Socket, timeout: Duration) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: setsockopt reads `tv`, a valid timeval of the size passed, for the socket we own.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::addr_of!(tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Reads the messages of `buf`: an ACK or error for one of `pending` (removed from it), or an
/// echoed new rule (its handle kept).
fn read_answers(buf: &[u8], pending: &mut Vec<u32>, handles: &mut Vec<u64>) -> Result<(), Errno> {
    let mut offset = 0;
    let word =
        |at: usize| -> u32 { u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or([0; 4])) };
    while offset + 16 <= buf.len() {
        let len = word(offset) as usize;
        if len < 16 || offset + len > buf.len() {
            return Err(Errno::EBADMSG);
        }
        let kind = u16::from_ne_bytes([buf[offset + 4], buf[offset + 5]]);
        let seq = word(offset + 8);
        let body = &buf[offset + 16..offset + len];
        if kind == NLMSG_ERROR {
            if body.len() < 4 {
                return Err(Errno::EBADMSG);
            }
            let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
            if code != 0 {
                return Err(Errno::from_raw(-code));
            }
            pending.retain(|s| *s != seq);
        } else if kind == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE && body.len() >= 4 {
            if let Some(handle) = find_u64(&body[4..], NFTA_RULE_HANDLE) {
                handles.push(handle);
            }
        }
        offset += len.next_multiple_of(4);
    }
    Ok(())
}

/// The big-endian u64 attribute `kind` among `attrs`.
fn find_u64(attrs: &[u8], kind: u16) -> Option<u64> {
    let mut at = 0;
    while at + 4 <= attrs.len() {
        let len = u16::from_ne_bytes([attrs[at], attrs[at + 1]]) as usize;
        let this = u16::from_ne_bytes([attrs[at + 2], attrs[at + 3]]) & !NLA_F_NESTED;
        if len < 4 || at + len > attrs.len() {
            return None;
        }
        if this == kind && len == 12 {
            return Some(u64::from_be_bytes(attrs[at + 4..at + 12].try_into().ok()?));
        }
        at += len.next_multiple_of(4);
    }
    None
}

fn rule_head(table: &str, chain: &str) -> Attrs {
    let mut attrs = Attrs::default();
    attrs
        .str(NFTA_RULE_TABLE, table)
        .str(NFTA_RULE_CHAIN, chain);
    attrs
}

/// Adds one rule per port to `table`'s `chain`, in one transaction; their handles.
pub(crate) fn add_ports(
    table: &str,
    chain: &str,
    note: &str,
    to: Ipv4Addr,
    ports: &[PortMap],
) -> Result<Vec<u64>, Error> {
    let mut batch = Batch::new();
    for port in ports {
        let mut attrs = rule_head(table, chain);
        attrs
            .nest(NFTA_RULE_EXPRESSIONS, &port_rule(port, to))
            .put(NFTA_RULE_USERDATA, &comment(note));
        batch.rule(
            NFT_MSG_NEWRULE,
            NLM_F_CREATE | NLM_F_APPEND | NLM_F_ECHO,
            &attrs,
        );
    }
    // Nothing to free after an addition: the socket's close does not wait.
    let (handles, _) = batch.send(&format!("publish ports of {note:?}"))?;
    if handles.len() != ports.len() {
        return Err(fail("publish ports")(Errno::EBADMSG));
    }
    Ok(handles)
}

/// Deletes rules of `table`'s `chain` by handle, in one transaction. The socket it used, once
/// there were rules: its close waits for nf_tables to free them (see [`crate::background`]).
pub(crate) fn delete_rules(
    table: &str,
    chain: &str,
    handles: &[u64],
) -> Result<Option<Socket>, Error> {
    if handles.is_empty() {
        return Ok(None);
    }
    let mut batch = Batch::new();
    for handle in handles {
        let mut attrs = rule_head(table, chain);
        attrs.put(NFTA_RULE_HANDLE, &handle.to_be_bytes());
        batch.rule(NFT_MSG_DELRULE, 0, &attrs);
    }
    let (_, socket) = batch.send("delete port rules")?;
    Ok(Some(socket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_come_from_echoed_rules_and_errors_end_the_batch() {
        let mut msg = Vec::new();
        let mut attrs = Attrs::default();
        attrs
            .str(NFTA_RULE_TABLE, "box")
            .put(NFTA_RULE_HANDLE, &42u64.to_be_bytes());
        let len = 16 + 4 + attrs.0.len();
        msg.extend((len as u32).to_ne_bytes());
        msg.extend(((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE).to_ne_bytes());
        msg.extend([0u8; 10]);
        msg.extend([2, 0, 0, 0]);
        msg.extend(&attrs.0);
        let ack = |seq: u32, code: i32| {
            let mut m = Vec::new();
            m.extend(20u32.to_ne_bytes());
            m.extend(NLMSG_ERROR.to_ne_bytes());
            m.extend(0u16.to_ne_bytes());
            m.extend(seq.to_ne_bytes());
            m.extend(0u32.to_ne_bytes());
            m.extend(code.to_ne_bytes());
            m
        };
        msg.extend(ack(2, 0));
        let (mut pending, mut handles) = (vec![2, 3], Vec::new());
        read_answers(&msg, &mut pending, &mut handles).unwrap();
        assert_eq!((pending.clone(), handles.clone()), (vec![3], vec![42]));
        let err = read_answers(&ack(3, -libc::ENOENT), &mut pending, &mut handles);
        assert_eq!(err, Err(Errno::ENOENT));
    }
}
