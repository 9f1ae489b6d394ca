//! `[network]`: none, host, container:NAME or a bridge, with published ports. One way to
//! choose the net namespace wins clearly: `[network] mode` when given, else `[namespaces] net`;
//! both given and saying different things is an error, never a silent choice.

use box_net::{
    BridgeConfig, NetConfig, NetMode, NetworkName, PortMap, Subnet, DEFAULT_NETWORK, DEFAULT_STORE,
};
use box_ns::{Kind, Mode, NsConfig};

use super::schema::Network;
use super::to_spec::{key, Ctx, Resolve, CONTAINER_PREFIX};
use super::{ConfigError, Seg};
use crate::name::Name;

/// The container's network; sets the net namespace of `ns` to match.
pub fn network(
    c: &Ctx<'_>,
    ns: &mut NsConfig,
    resolve: Resolve<'_>,
    name: &str,
    hostname: &str,
) -> Result<NetConfig, ConfigError> {
    let given = c.file.namespaces.net.as_deref();
    let Some(n) = &c.file.network else {
        return Ok(NetConfig {
            mode: from_namespace(ns, given),
            ports: Vec::new(),
        });
    };
    let mode_text = n.mode.as_deref().unwrap_or("bridge");
    let at = |k: &str, m: String| c.err(&["network", k], m);
    let contradiction = |wanted: &str| {
        c.err(
            &["namespaces", "net"],
            format!(
                "{:?} contradicts network.mode = {mode_text:?}, which means net = {wanted:?}: \
                 remove one of the two",
                given.unwrap_or_default()
            ),
        )
    };
    let (mode, netns) = match mode_text {
        "none" | "bridge" => {
            if given.is_some_and(|g| g != "new") {
                return Err(contradiction("new"));
            }
            let mode = if mode_text == "none" {
                NetMode::None
            } else {
                NetMode::Bridge(bridge(c, n, name, hostname)?)
            };
            (mode, Mode::New)
        }
        "host" => {
            if given.is_some_and(|g| g != "host") {
                return Err(contradiction("host"));
            }
            (NetMode::Host, Mode::Host)
        }
        m if m.starts_with(CONTAINER_PREFIX) => {
            if given.is_some_and(|g| g != m) {
                return Err(contradiction(m));
            }
            let other = &m[CONTAINER_PREFIX.len()..];
            Name::parse(other).map_err(|e| at("mode", e.to_string()))?;
            if other == name {
                return Err(at("mode", "a container cannot join its own network".into()));
            }
            let path = resolve(other, Kind::Net).map_err(|e| at("mode", e))?;
            (NetMode::Joined(m.to_string()), Mode::Join(path))
        }
        other => {
            return Err(at(
                "mode",
                format!(
                    "invalid value {other:?}: expected \"none\", \"host\", \"container:NAME\" or \"bridge\""
                ),
            ))
        }
    };
    if !matches!(mode, NetMode::Bridge(_)) {
        for (k, set) in [("name", n.name.is_some()), ("subnet", n.subnet.is_some())] {
            if set {
                return Err(at(k, format!("only a bridge network has a {k}")));
            }
        }
        if !n.ports.is_empty() {
            return Err(at(
                "ports",
                "published ports need mode = \"bridge\" (the host's own ports need no publishing)"
                    .into(),
            ));
        }
    }
    let ports = ports(c, &n.ports)?;
    ns.set(Kind::Net, netns);
    Ok(NetConfig { mode, ports })
}

/// No `[network]`: the net namespace says it.
fn from_namespace(ns: &NsConfig, given: Option<&str>) -> NetMode {
    match ns.mode(Kind::Net) {
        Mode::New => NetMode::None,
        Mode::Host => NetMode::Host,
        Mode::Join(path) => NetMode::Joined(
            given
                .map(str::to_string)
                .unwrap_or_else(|| path.display().to_string()),
        ),
    }
}

fn bridge(
    c: &Ctx<'_>,
    n: &Network,
    name: &str,
    hostname: &str,
) -> Result<BridgeConfig, ConfigError> {
    let network = n.name.as_deref().unwrap_or(DEFAULT_NETWORK);
    NetworkName::parse(network).map_err(|m| c.err(&["network", "name"], m))?;
    let subnet = n
        .subnet
        .as_deref()
        .map(|s| Subnet::parse(s).map_err(|m| c.err(&["network", "subnet"], m)))
        .transpose()?;
    Ok(BridgeConfig {
        network: network.to_string(),
        subnet,
        container: name.to_string(),
        hostname: hostname.to_string(),
        store: DEFAULT_STORE.into(),
    })
}

fn ports(c: &Ctx<'_>, list: &[String]) -> Result<Vec<PortMap>, ConfigError> {
    let mut ports: Vec<PortMap> = Vec::new();
    for (i, text) in list.iter().enumerate() {
        let mut path = key(&["network", "ports"]);
        path.push(Seg::Index(i));
        let port = PortMap::parse(text).map_err(|m| c.error_at(&path, m))?;
        if let Some(earlier) = ports.iter().find(|p| p.conflicts(&port)) {
            return Err(c.error_at(
                &path,
                format!(
                    "publishes host port {} again (already {earlier})",
                    port.host_port
                ),
            ));
        }
        ports.push(port);
    }
    Ok(ports)
}
