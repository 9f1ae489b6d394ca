//! Outbound masquerading, proven against "outside" standing in a net namespace the test makes
//! on the host side of the bridge (never a real outside address): a veth between the host and
//! that namespace, a server there that answers with the address it sees. The outside has no
//! route back to the container's subnet, so only a masqueraded connection gets an answer.

use std::process::{Child, Command};

use box_tests::ok;

use crate::support::{case, ip, Net};

/// A net namespace held by a `sleep` of the test's, linked to the host by a veth.
struct Outside {
    holder: Child,
    server: Option<Child>,
    host_end: String,
}

impl Outside {
    fn new(tag: &str, dir: &std::path::Path) -> Outside {
        let holder = Command::new("unshare")
            .args(["--net", "sleep", "120"])
            .spawn()
            .expect("start unshare");
        let pid = holder.id().to_string();
        let netns = format!("/proc/{pid}/ns/net");
        // unshare execs sleep once the namespace exists: wait for that (bounded).
        for _ in 0..100 {
            if std::fs::read_link(&netns).ok() != std::fs::read_link("/proc/self/ns/net").ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let host_end = format!("bto{tag}{}", std::process::id() % 100_000);
        let mut outside = Outside {
            holder,
            server: None,
            host_end: host_end.clone(),
        };
        ip(&[
            "link", "add", &host_end, "type", "veth", "peer", "name", "out0", "netns", &pid,
        ]);
        ip(&["addr", "add", "10.203.9.1/24", "dev", &host_end]);
        ip(&["link", "set", &host_end, "up"]);
        let inside = |args: &[&str]| {
            let out = Command::new("nsenter")
                .arg(format!("--net={netns}"))
                .arg("ip")
                .args(args)
                .output()
                .expect("run nsenter");
            ok(&out);
        };
        inside(&["addr", "add", "10.203.9.2/24", "dev", "out0"]);
        inside(&["link", "set", "out0", "up"]);
        inside(&["link", "set", "lo", "up"]);
        // A CGI that prints the peer's address, served in the outside namespace.
        let cgi = dir.join("www/cgi-bin");
        std::fs::create_dir_all(&cgi).unwrap();
        std::fs::write(
            cgi.join("peer"),
            "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(cgi.join("peer"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let server = Command::new("nsenter")
            .arg(format!("--net={netns}"))
            .args(["busybox", "httpd", "-f", "-p", "10.203.9.2:80", "-h"])
            .arg(dir.join("www"))
            .spawn()
            .expect("start the outside's server");
        outside.server = Some(server);
        outside
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        for child in [self.server.as_mut(), Some(&mut self.holder)]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The namespace, and the veth's other end with it, died with the holder.
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_end])
            .output();
    }
}

#[test]
fn outbound_connections_are_masqueraded_behind_the_hosts_address() {
    let net = Net::new("ob", 10);
    let c = case(
        "net-out",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"for i in $(seq 50); do busybox wget -q -O- http://10.203.9.2/cgi-bin/peer && exit; sleep 0.1; done; exit 1\"]\n{}",
            net.table("")
        ),
    );
    let outside = Outside::new("ob", c.dir.path());
    let out = ok(&c.up());
    drop(outside);
    // The outside saw the host's address on its link, not the container's 10.203.10.x.
    assert_eq!(out.trim(), "10.203.9.1");
    c.assert_nothing_left();
    net.assert_gone();
}
