//! A bridged container attacks its network, with box's default capabilities (no
//! CAP_NET_ADMIN): it takes the gateway's or a neighbour's address, adds routes, reaches for
//! the host's bridge and forwarding switch. Then the HOST is checked: the bridge, its address
//! and routes are as box made them, and the neighbour still answers as itself.

use std::net::SocketAddr;

use box_tests::{ok, StateRoot};

use crate::support::{address, case, http_get, ip, serve, Net};

#[test]
fn a_bridged_container_cannot_change_the_hosts_side_nor_take_a_neighbours_address() {
    let net = Net::new("at", 11);
    let mut root = StateRoot::new();
    let victim = case(
        "net-victim",
        &format!("{}{}", serve("victim", "80"), net.table("")),
    );
    let victim_name = root.up(&victim);
    let victim_ip = address(&root, &victim_name);
    assert_eq!(
        http_get(SocketAddr::from((victim_ip, 80)), "/who"),
        "victim"
    );
    let tries = [
        format!("ip addr add {victim_ip}/24 dev eth0"),
        format!("ip addr add {}/24 dev eth0", net.gateway()),
        "ip route add 10.203.9.0/24 dev eth0".to_string(),
        "ip link set eth0 address 02:00:00:00:00:01".to_string(),
        format!("ip link set {} down", net.name),
        format!("ip addr add 10.203.12.1/24 dev {}", net.name),
        "echo 0 > /proc/sys/net/ipv4/ip_forward".to_string(),
    ];
    let script: String = tries
        .iter()
        .map(|t| format!("if {t} 2>/dev/null; then echo DONE; else echo refused; fi; "))
        .collect();
    let attacker = case(
        "net-attacker",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"{script}\"]\n{}",
            net.table("")
        ),
    );
    let out = ok(&attacker.up());
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["refused"; tries.len()],
        "{tries:?}"
    );
    // The host: the bridge has its one address and its one route, forwarding is still on.
    let addrs = ip(&["-o", "-4", "addr", "show", "dev", &net.name]);
    assert_eq!(addrs.lines().count(), 1, "{addrs}");
    assert!(addrs.contains("inet 10.203.11.1/24"), "{addrs}");
    let routes = ip(&["route", "show", "dev", &net.name]);
    assert_eq!(routes.lines().count(), 1, "{routes}");
    assert!(routes.starts_with("10.203.11.0/24 "), "{routes}");
    assert!(ip(&["-o", "link", "show", &net.name]).contains(",UP"));
    let forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    assert_eq!(forward.trim(), "1");
    assert_eq!(
        http_get(SocketAddr::from((victim_ip, 80)), "/who"),
        "victim"
    );
    drop(root);
    attacker.assert_nothing_left();
    net.assert_gone();
}
