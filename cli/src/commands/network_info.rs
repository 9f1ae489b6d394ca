//! The `Network` block of `box inspect`: the mode from the container's spec and, for a
//! running bridged container, its place on its network as the network layer recorded it.

use serde_json::{json, Value};

use box_net::NetMode;

use crate::state::State;

/// A dead container's place on its network (its box was killed before it could undo it),
/// with every other killed box's: the network layer's sweep.
pub fn reclaim(state: &State) -> anyhow::Result<()> {
    if let NetMode::Bridge(b) = &state.spec.network.mode {
        box_net::sweep(&b.store)?;
    }
    Ok(())
}

pub fn network(state: &State, running: bool) -> Value {
    let net = &state.spec.network;
    let mut block = json!({
        "Mode": net.mode.kind(),
        "Ports": net.ports.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    let NetMode::Bridge(b) = &net.mode else {
        return block;
    };
    block["Network"] = json!(b.network);
    let info = running
        .then(|| box_net::lookup(&b.store, &b.network, &b.container))
        .flatten();
    if let Some(info) = info {
        block["Interface"] = json!(info.interface);
        block["HostInterface"] = json!(info.host_interface);
        block["IPAddress"] = json!(info.address.to_string());
        block["IPPrefixLen"] = json!(info.prefix);
        block["Gateway"] = json!(info.gateway.to_string());
    }
    block
}
