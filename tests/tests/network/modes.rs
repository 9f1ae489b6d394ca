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
