//! `kill -9` of box runs no undo: what its container held on its network (published ports,
//! its address, its files, the network itself when it was the last) is reclaimed by the
//! next start on any network, or by `box rm` of the dead container.

use std::net::SocketAddr;

use box_tests::{ok, StateRoot};

use crate::support::{address, case, http_get, nft_ruleset, serve, Net};

#[test]
fn a_killed_boxs_network_is_reclaimed_by_the_next_start() {
    let net = Net::new("kl", 13);
    let other = Net::new("ko", 14);
    let mut root = StateRoot::new();
    let c = case(
        "net-killed",
        &format!(
            "{}{}",
            serve("doomed", "80"),
            net.table("ports = [\"18456:80\"]\n")
        ),
    );
    let name = root.up(&c);
    let ip = address(&root, &name);
    assert_eq!(http_get(SocketAddr::from((ip, 80)), "/who"), "doomed");
    assert!(nft_ruleset().contains(&format!("port {}/{name}", net.name)));
    let monitor: i32 = root.field(&name, "{{.State.MonitorPid}}").parse().unwrap();
    // SAFETY: kill only sends a signal, to box's monitor, which this test started.
    assert_eq!(unsafe { libc::kill(monitor, libc::SIGKILL) }, 0);
    // Its container died with it (parent-death signal); its rules and address wait for a sweep.
    for _ in 0..100 {
        if std::fs::metadata(format!("/proc/{monitor}")).is_err() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The next start, on another network, reclaims them (if another test's start running at
    // the same time has not already: any bridged start sweeps).
    let next = case(
        "net-next",
        &format!("command = [\"/bin/true\"]\n{}", other.table("")),
    );
    ok(&next.up());
    net.assert_gone();
    other.assert_gone();
    drop(root);
}
