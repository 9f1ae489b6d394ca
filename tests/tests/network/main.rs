//! Networks end to end: `none`, `container:NAME`, bridges with names and published ports,
//! outbound masquerading, allocation under concurrency, and the errors a user meets. Every
//! test uses a network (bridge name and subnet) of its own, talks only to addresses of this
//! machine or of namespaces it made, and checks that nothing of its network is left.

mod attacks;
mod killed;
mod modes;
mod outbound;
mod support;

use std::net::SocketAddr;

use box_tests::{ok, stderr, StateRoot};

use support::{address, case, http_get, serve, Net};

#[test]
fn two_bridged_containers_reach_each_other_by_address_and_by_name() {
    let net = Net::new("ab", 1);
    let mut root = StateRoot::new();
    let server = case(
        "net-srv",
        &format!("{}{}", serve("server-here", "80"), net.table("")),
    );
    let server_name = root.up(&server);
    let server_ip = address(&root, &server_name);
    assert!(server_ip.octets()[..3] == [10, 203, 1], "{server_ip}");
    // Listening: the host reaches it at its address (a route via the bridge).
    assert_eq!(
        http_get(SocketAddr::from((server_ip, 80)), "/who"),
        "server-here"
    );
    let client = case(
        "net-cli",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"busybox wget -q -O- http://{server_name}/who; busybox wget -q -O- http://{server_ip}/who; ip -o -4 addr show dev eth0\"]\n{}",
            net.table("")
        ),
    );
    let out = ok(&client.up());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["server-here", "server-here"], "{out}");
    assert!(lines[2].contains("inet 10.203.1."), "{out}");
    assert!(!lines[2].contains(&format!("inet {server_ip}/")), "{out}");
    drop(root);
    client.assert_nothing_left();
    net.assert_gone();
}

#[test]
fn a_published_port_answers_on_127_0_0_1_and_on_the_hosts_addresses() {
    let net = Net::new("pp", 2);
    let mut root = StateRoot::new();
    let ports = "ports = [\"127.0.0.1:18452:80\", \"18453:80\", \"127.0.0.1:18457:53/udp\"]\n";
    let web = case(
        "net-web",
        &format!("{}{}", serve("published", "80"), net.table(ports)),
    );
    let name = root.up(&web);
    let ip = address(&root, &name);
    assert_eq!(http_get(SocketAddr::from((ip, 80)), "/who"), "published");
    let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(http_get(local(18452), "/who"), "published");
    // Published on every address: loopback and the host's own address on the bridge.
    assert_eq!(http_get(local(18453), "/who"), "published");
    assert_eq!(
        http_get(SocketAddr::from((net.gateway(), 18453)), "/who"),
        "published"
    );
    let ports = root.field(&name, "{{json .Network.Ports}}");
    assert_eq!(
        ports,
        r#"["127.0.0.1:18452:80/tcp","18453:80/tcp","127.0.0.1:18457:53/udp"]"#
    );
    // No UDP client or server in the container's tools: the kernel's ruleset says it.
    let rules = support::nft_ruleset();
    let udp = format!("ip daddr 127.0.0.1 udp dport 18457 dnat to {ip}:53");
    assert!(rules.contains(&udp), "{rules}");
    assert_eq!(
        root.field(&name, "{{.Network.Gateway}}"),
        net.gateway().to_string()
    );
    assert_eq!(root.field(&name, "{{.Network.Interface}}"), "eth0");
    drop(root);
    net.assert_gone();
}

#[test]
fn a_port_published_twice_is_a_clear_error() {
    let net = Net::new("pc", 3);
    let mut root = StateRoot::new();
    let ports = "ports = [\"18454:80\"]\n";
    let first = case(
        "net-p1",
        &format!("{}{}", serve("first", "80"), net.table(ports)),
    );
    let first_name = root.up(&first);
    let second = case(
        "net-p2",
        &format!("{}{}", serve("second", "80"), net.table(ports)),
    );
    let out = second.up();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "network: port 18454:80/tcp is already published by container {first_name}"
        )),
        "{}",
        stderr(&out)
    );
    second.assert_nothing_left();
    drop(root);
    net.assert_gone();
}

#[test]
fn an_exhausted_subnet_is_a_clear_error() {
    let net = Net::new("ex", 4);
    let mut root = StateRoot::new();
    let table = format!(
        "[network]\nname = \"{}\"\nsubnet = \"10.203.4.0/30\"\n",
        net.name
    );
    let only = case(
        "net-x1",
        &format!("command = [\"/bin/sleep\", \"60\"]\n{table}"),
    );
    root.up(&only);
    let more = case("net-x2", &format!("command = [\"/bin/true\"]\n{table}"));
    let out = more.up();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "network {}: no free address left in 10.203.4.0/30",
            net.name
        )),
        "{}",
        stderr(&out)
    );
    drop(root);
    net.assert_gone();
}

#[test]
fn ten_concurrent_ups_get_ten_distinct_addresses() {
    let net = Net::new("cc", 5);
    let cases: Vec<_> = (0..10)
        .map(|i| {
            case(
                &format!("net-c{i}"),
                &format!(
                    "command = [\"/bin/sh\", \"-c\", \"ip -o -4 addr show dev eth0; sleep 1\"]\n{}",
                    net.table("")
                ),
            )
        })
        .collect();
    let children: Vec<_> = cases
        .iter()
        .map(|c| {
            c.command(&["up"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn box up")
        })
        .collect();
    let mut addresses: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wait for box up");
            let text = ok(&out);
            let inet = text.split_whitespace().skip_while(|w| *w != "inet").nth(1);
            inet.expect("an address on eth0").to_string()
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 10, "{addresses:?}");
    for c in &cases {
        c.assert_nothing_left();
    }
    net.assert_gone();
}
