//! `none` and `container:NAME`.

use box_tests::{ok, StateRoot};

use crate::support::{case, serve};

#[test]
fn none_has_only_lo_up_with_127_0_0_1_and_ipv6_loopback() {
    let c = case(
        "net-none",
        "command = [\"/bin/sh\", \"-c\", \"ls /sys/class/net; cat /sys/class/net/lo/operstate; \
         mkdir -p /tmp/w && echo v4 > /tmp/w/a && busybox httpd -p 127.0.0.1:8000 -h /tmp/w && \
         busybox wget -q -O- http://127.0.0.1:8000/a; ip -o addr show dev lo | grep -c ::1/128\"]\n\
         [network]\nmode = \"none\"\n",
    );
    let out = ok(&c.up());
    // lo's operstate is "unknown" when it is up (it has no carrier), "down" when it is not.
    assert_eq!(out, "lo\nunknown\nv4\n1\n");
    c.assert_nothing_left();
}

#[test]
fn container_mode_shares_the_other_containers_lo() {
    let mut root = StateRoot::new();
    let first = case(
        "net-owner",
        &format!(
            "{}[network]\nmode = \"none\"\n",
            serve("owner-lo", "127.0.0.1:8000")
        ),
    );
    let owner = root.up(&first);
    let joiner = case(
        "net-joiner",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"for i in $(seq 50); do busybox wget -q -O- http://127.0.0.1:8000/who && exit; sleep 0.1; done; exit 1\"]\n\
             [network]\nmode = \"container:{owner}\"\n"
        ),
    );
    let out = ok(&root.run(&["up", joiner.file().to_str().unwrap()]));
    assert_eq!(out, "owner-lo\n");
    let pid = root.pid(&owner);
    assert_eq!(
        root.field(&owner, "{{.Network.Mode}}"),
        "none",
        "the owner's mode"
    );
    assert_ne!(
        std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap(),
        std::fs::read_link("/proc/self/ns/net").unwrap()
    );
}

#[test]
fn a_file_of_several_starts_the_joined_container_first_and_they_share_its_bridge_address() {
    let net = crate::support::Net::new("cp", 15);
    let (web, side) = (
        box_tests::unique_name("cweb"),
        box_tests::unique_name("cside"),
    );
    // Written joiner first: box starts web first all the same.
    let text = format!(
        "[containers.{side}]\ncommand = [\"/bin/sleep\", \"60\"]\n[containers.{side}.network]\nmode = \"container:{web}\"\n\n\
         [containers.{web}]\n{}[containers.{web}.network]\nname = \"{}\"\nsubnet = \"{}\"\n",
        serve("web-in-file", "80"),
        net.name,
        net.subnet()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("box.toml");
    std::fs::write(&file, text).unwrap();
    let mut root = StateRoot::new();
    let up = ok(&root.run(&["up", "-d", file.to_str().unwrap()]));
    assert_eq!(up, format!("{web}\n{side}\n"), "start order");
    root.names.extend([web.clone(), side.clone()]);
    let ns = |name: &str| std::fs::read_link(format!("/proc/{}/ns/net", root.pid(name))).unwrap();
    assert_eq!(ns(&web), ns(&side));
    let ip = crate::support::address(&root, &web);
    assert_eq!(
        crate::support::http_get(std::net::SocketAddr::from((ip, 80)), "/who"),
        "web-in-file"
    );
    assert_eq!(
        root.field(&side, "{{.Network.Mode}}"),
        format!("container:{web}")
    );
    ok(&root.run(&["down", "-t", "0", file.to_str().unwrap()]));
    root.names.clear();
    drop(root);
    net.assert_gone();
}

/// A veth is left to die with its container's namespace only when no process is still in
/// it: here a joiner holds it, so box's closer deletes the link, a moment after `rm -f`
/// returns, and the joiner loses `eth0` (its address may go to the next container).
#[test]
fn a_joiner_that_outlives_its_host_container_loses_eth0() {
    let net = crate::support::Net::new("jl", 17);
    let (web, side) = (
        box_tests::unique_name("jweb"),
        box_tests::unique_name("jside"),
    );
    let text = format!(
        "[containers.{web}]\ncommand = [\"/bin/sleep\", \"60\"]\n[containers.{web}.network]\nname = \"{}\"\nsubnet = \"{}\"\n\n\
         [containers.{side}]\ncommand = [\"/bin/sleep\", \"60\"]\n[containers.{side}.network]\nmode = \"container:{web}\"\n",
        net.name,
        net.subnet()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("box.toml");
    std::fs::write(&file, text).unwrap();
    let mut root = StateRoot::new();
    ok(&root.run(&["up", "-d", file.to_str().unwrap()]));
    root.names.extend([web.clone(), side.clone()]);
    let host_end = root.field(&web, "{{.Network.HostInterface}}");
    assert!(std::path::Path::new(&format!("/sys/class/net/{host_end}")).exists());
    ok(&root.run(&["rm", "-f", &web]));
    let link = std::path::PathBuf::from(format!("/sys/class/net/{host_end}"));
    // The closer's look through /proc and the deletion's grace periods: well under a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while link.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{host_end} still on the host 5 s after rm -f {web}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let links = ok(&root.run(&["exec", &side, "--", "ls", "/sys/class/net"]));
    assert_eq!(links, "lo\n");
    ok(&root.run(&["rm", "-f", &side]));
    root.names.clear();
    drop(root);
    net.assert_gone();
}

#[test]
fn a_bridged_container_in_a_user_namespace_gets_its_address_and_files() {
    let net = crate::support::Net::new("us", 16);
    let c = case(
        "net-userns",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"id -u; ip -o -4 addr show dev eth0; cat /etc/hostname; ip route show default\"]\n\
             [namespaces]\nuser = \"new\"\n{}",
            net.table("")
        ),
    );
    let out = ok(&c.up());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert!(lines[1].contains("inet 10.203.16.2/24"), "{out}");
    assert_eq!(lines[2], c.name);
    assert!(
        lines[3].starts_with("default via 10.203.16.1 dev eth0"),
        "{out}"
    );
    c.assert_nothing_left();
    net.assert_gone();
}
