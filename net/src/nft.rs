//! box's nftables table, `ip box`. The table, its chains and each network's rules are made
//! through libnftables' JSON (`nft -j -f -`: one process, one atomic transaction per change;
//! rules as serde_json values, never rule text), once per network. A container's published
//! ports, which every such start and end changes, go over netlink in box's own process
//! ([`crate::nfnl`]).
//!
//! ```text
//! table ip box {
//!   chain prerouting  { type nat hook prerouting priority dstnat;  fib daddr type local jump ports }
//!   chain output      { type nat hook output priority dstnat;      fib daddr type local jump ports }
//!   chain ports       { [ip daddr HOST_IP] tcp|udp dport P dnat to ADDR:PORT  comment "port NET/NAME" }
//!   chain postrouting { type nat hook postrouting priority srcnat;
//!                       ip saddr SUBNET oifname != BRIDGE masquerade        comment "net NET"
//!                       ip saddr 127.0.0.0/8 oifname BRIDGE masquerade      comment "net NET" }
//! }
//! ```

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::config::{PortMap, Subnet};
use crate::Error;

/// The table box owns.
pub const TABLE: &str = "box";
const FAMILY: &str = "ip";

fn nft(args: &[&str], input: Option<&Value>) -> Result<String, Error> {
    let what = || args.join(" ");
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Nft {
            what: what(),
            message: format!("cannot run nft (Debian's nftables package): {e}"),
        })?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // nft reads all of its input before it answers: no deadlock with its pipes.
        stdin
            .write_all(input.to_string().as_bytes())
            .map_err(|e| Error::Nft {
                what: what(),
                message: e.to_string(),
            })?;
    }
    let out = child.wait_with_output().map_err(|e| Error::Nft {
        what: what(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(Error::Nft {
            what: what(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs one transaction.
fn apply(commands: Vec<Value>) -> Result<(), Error> {
    nft(&["-j", "-f", "-"], Some(&json!({ "nftables": commands }))).map(drop)
}

fn chain(name: &str, hook: Option<(&str, i32)>) -> Value {
    let mut chain = json!({ "family": FAMILY, "table": TABLE, "name": name });
    if let Some((hook, prio)) = hook {
        chain["type"] = json!("nat");
        chain["hook"] = json!(hook);
        chain["prio"] = json!(prio);
        chain["policy"] = json!("accept");
    }
    json!({ "add": { "chain": chain } })
}

fn rule(chain: &str, comment: Option<&str>, expr: Vec<Value>) -> Value {
    let mut rule = json!({ "family": FAMILY, "table": TABLE, "chain": chain, "expr": expr });
    if let Some(comment) = comment {
        rule["comment"] = json!(comment);
    }
    json!({ "add": { "rule": rule } })
}

fn matches(op: &str, left: Value, right: Value) -> Value {
    json!({ "match": { "op": op, "left": left, "right": right } })
}

fn payload(protocol: &str, field: &str) -> Value {
    json!({ "payload": { "protocol": protocol, "field": field } })
}

fn to_local_jump_ports() -> Vec<Value> {
    vec![
        matches(
            "==",
            json!({ "fib": { "result": "type", "flags": ["daddr"] } }),
            json!("local"),
        ),
        json!({ "jump": { "target": "ports" } }),
    ]
}

fn masquerade(subnet: &Subnet, bridge: &str, comment: &str) -> [Value; 2] {
    let prefix =
        |addr: Ipv4Addr, len: u8| json!({ "prefix": { "addr": addr.to_string(), "len": len } });
    [
        // Outbound: the container's address is hidden behind the host's.
        rule(
            "postrouting",
            Some(comment),
            vec![
                matches(
                    "==",
                    payload("ip", "saddr"),
                    prefix(subnet.base, subnet.prefix),
                ),
                matches("!=", json!({ "meta": { "key": "oifname" } }), json!(bridge)),
                json!({ "masquerade": null }),
            ],
        ),
        // A port published on 127.0.0.1: the container cannot answer a loopback source.
        rule(
            "postrouting",
            Some(comment),
            vec![
                matches(
                    "==",
                    payload("ip", "saddr"),
                    prefix(Ipv4Addr::new(127, 0, 0, 0), 8),
                ),
                matches("==", json!({ "meta": { "key": "oifname" } }), json!(bridge)),
                json!({ "masquerade": null }),
            ],
        ),
    ]
}

fn network_comment(network: &str) -> String {
    format!("net {network}")
}

/// The comment that marks a container's port rules.
pub(crate) fn port_comment(network: &str, container: &str) -> String {
    format!("port {network}/{container}")
}

/// The first network: the table made anew (an `add` then `delete` first, so that a table a
/// killed box left behind goes too), with its chains and the network's rules.
pub(crate) fn create_table(network: &str, subnet: &Subnet, bridge: &str) -> Result<(), Error> {
    let table = json!({ "table": { "family": FAMILY, "name": TABLE } });
    let mut commands = vec![
        json!({ "add": table.clone() }),
        json!({ "delete": table.clone() }),
        json!({ "add": table }),
        chain("ports", None),
        chain("prerouting", Some(("prerouting", -100))),
        chain("output", Some(("output", -100))),
        chain("postrouting", Some(("postrouting", 100))),
        rule("prerouting", None, to_local_jump_ports()),
        rule("output", None, to_local_jump_ports()),
    ];
    commands.extend(masquerade(subnet, bridge, &network_comment(network)));
    apply(commands)
}

/// Another network, in the existing table.
pub(crate) fn add_network(network: &str, subnet: &Subnet, bridge: &str) -> Result<(), Error> {
    apply(masquerade(subnet, bridge, &network_comment(network)).to_vec())
}

/// The last network is gone: so is the table (one already gone is fine).
pub(crate) fn delete_table() -> Result<(), Error> {
    let table = json!({ "table": { "family": FAMILY, "name": TABLE } });
    apply(vec![
        json!({ "add": table.clone() }),
        json!({ "delete": table }),
    ])
}

/// Publishes `ports` to `addr`; returns the rules' handles. Over netlink, in this process.
pub(crate) fn add_ports(
    comment: &str,
    addr: Ipv4Addr,
    ports: &[PortMap],
) -> Result<Vec<u64>, Error> {
    crate::nfnl::add_ports(TABLE, "ports", comment, addr, ports)
}

/// Deletes a container's port rules by handle. Over netlink, in this process; the socket to
/// close without waiting, once there were rules.
pub(crate) fn delete_ports(handles: &[u64]) -> Result<Option<netlink_sys::Socket>, Error> {
    crate::nfnl::delete_rules(TABLE, "ports", handles)
}

/// Deletes rules of `chain` by handle; a rule already gone is fine only when the table is.
pub(crate) fn delete_rules(chain: &str, handles: &[u64]) -> Result<(), Error> {
    if handles.is_empty() {
        return Ok(());
    }
    let commands = handles
        .iter()
        .map(|h| {
            json!({ "delete": { "rule": {
                "family": FAMILY, "table": TABLE, "chain": chain, "handle": h } } })
        })
        .collect();
    apply(commands)
}

/// The handles of the rules of `chain` whose comment is `comment` (none when the table is
/// gone).
pub(crate) fn rules_with_comment(chain: &str, comment: &str) -> Result<Vec<u64>, Error> {
    let out = match nft(&["-j", "list", "chain", FAMILY, TABLE, chain], None) {
        Ok(out) => out,
        Err(Error::Nft { message, .. }) if message.contains("No such file") => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let answer: Value = serde_json::from_str(&out).map_err(|e| Error::Nft {
        what: "read nft's listing".into(),
        message: e.to_string(),
    })?;
    let Some(items) = answer["nftables"].as_array() else {
        return Ok(Vec::new());
    };
    Ok(items
        .iter()
        .filter(|item| item["rule"]["comment"].as_str() == Some(comment))
        .filter_map(|item| item["rule"]["handle"].as_u64())
        .collect())
}

/// A network that is gone, while others remain: its rules go.
pub(crate) fn remove_network(network: &str) -> Result<(), Error> {
    let handles = rules_with_comment("postrouting", &network_comment(network))?;
    delete_rules("postrouting", &handles)
}
