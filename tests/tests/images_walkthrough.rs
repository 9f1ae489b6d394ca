//! The article's walkthrough with its own image names: `ubuntu` and `nginx` are Docker Hub's
//! (`docker.io/library/…`), pulled here from a registry mirror the test starts on 127.0.0.1
//! (`$BOX_REGISTRY_MIRRORS`, Docker's `registry-mirrors`), so that nothing leaves this
//! machine. The images are busybox ones named as the article names them: `ubuntu` with a
//! `bash` and a `stress` (a shell busy loop), `nginx` a busybox httpd on port 80. Each
//! `docker run` line runs with `box` in place of `docker`, and what it claims is read from
//! the kernel: inside the container and on the host.

#[allow(dead_code)]
#[path = "run/pty.rs"]
mod pty;
#[allow(dead_code)]
#[path = "images/run_support.rs"]
mod run_support;
#[allow(dead_code)]
#[path = "images/support.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use box_cgroup::{Controller, Layout, Location};
use box_tests::oci::{host_arch, Compression, Image, Layer, Tar};
use box_tests::{ok, stderr, unique_name};
use pty::Pty;
use run_support::assert_nothing_left;
use support::{busybox_layer, Env};

const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `library/ubuntu:latest`: busybox, `bash` (a shell that runs busybox's sh), `stress`.
fn ubuntu(env: &Env) -> Image {
    let base = Tar::new().tree(&busybox_layer(env)).finish();
    let ubuntu = Tar::new()
        .executable("bin/bash", b"#!/bin/sh\nexec /bin/sh \"$@\"\n")
        .dir("usr/")
        .dir("usr/bin/")
        .executable(
            "usr/bin/stress",
            b"#!/bin/sh\n# A CPU hog, as stress --cpu 1 is.\nwhile :; do :; done\n",
        )
        .file("etc/os-release", b"NAME=\"box's test ubuntu\"\nID=ubuntu\n")
        .finish();
    let layers = [
        Layer::new(base, Compression::Gzip),
        Layer::new(ubuntu, Compression::Gzip),
    ];
    let run = serde_json::json!({"Cmd": ["/bin/bash"], "Env": [PATH]});
    Image::build(&layers, run, host_arch(), false)
}

/// `library/nginx:latest`: busybox's httpd serving a page on port 80.
fn nginx(env: &Env) -> Image {
    let base = Tar::new().tree(&busybox_layer(env)).finish();
    let site = Tar::new()
        .dir("usr/")
        .dir("usr/share/")
        .dir("usr/share/nginx/")
        .dir("usr/share/nginx/html/")
        .file(
            "usr/share/nginx/html/index.html",
            b"<h1>Welcome to nginx!</h1>\n",
        )
        .finish();
    let layers = [
        Layer::new(base, Compression::Gzip),
        Layer::new(site, Compression::Zstd),
    ];
    let run = serde_json::json!({
        "Cmd": ["httpd", "-f", "-p", "80", "-h", "/usr/share/nginx/html"],
        "Env": [PATH],
        "ExposedPorts": {"80/tcp": {}},
    });
    Image::build(&layers, run, host_arch(), false)
}

/// The test's world: its registry as Docker Hub's mirror, `ubuntu` and `nginx` pushed to it.
struct Hub {
    env: Env,
    mirror: String,
}

impl Hub {
    fn new() -> Hub {
        let env = Env::new();
        env.registry.push("library/ubuntu", "latest", &ubuntu(&env));
        env.registry.push("library/nginx", "latest", &nginx(&env));
        let mirror = format!("http://{}", env.registry.host());
        Hub { env, mirror }
    }

    /// `box ARGS…` with the test's store, state root and mirror.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.command(args);
        cmd.env("BOX_REGISTRY_MIRRORS", &self.mirror);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run box")
    }
}

/// The host's cgroup file `file` of container `name` for `controller`, and its content.
fn host_cgroup_file(name: &str, controller: Controller, v1: &str, v2: &str) -> String {
    let layout = Layout::detect().unwrap();
    let path = match layout.location(controller) {
        Some(Location::V1(root)) => root.join("box").join(name).join(v1),
        Some(Location::V2(root)) => root.join("box").join(name).join(v2),
        None => panic!("this host has no {controller} controller"),
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

/// `GET /` from the host, until the server answers (bounded).
fn http_get(port: u16) -> String {
    let deadline = Instant::now() + pty::DEADLINE;
    loop {
        let once = || -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        };
        match once() {
            Ok(text) if text.starts_with("HTTP/1.") => return text,
            other if Instant::now() > deadline => panic!("GET http://127.0.0.1:{port}/: {other:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_articles_docker_run_lines_work_with_box_run() {
    let hub = Hub::new();
    // Names are unique to the test where the article says `c1`: a cgroup's name (box/NAME)
    // is the host's, shared with every other box on this machine.
    let c1 = unique_name("c1");

    // docker run -it ubuntu bash: pulled from the mirror on first use, a shell on a terminal.
    let mut pty = Pty::new(24, 80);
    let mut child = pty.spawn(&mut hub.command(&["run", "-it", "ubuntu", "bash"]));
    pty.type_line("test -t 0 && . /etc/os-release && echo \"I\"\"Z$NAME-$(id -u)E\"\"Z\"");
    // The test's image (its os-release), not Docker Hub's.
    assert_eq!(pty.next_between("IZ", "EZ"), "box's test ubuntu-0");
    pty.type_line("exit 3");
    assert_eq!(child.wait().unwrap().code(), Some(3), "{}", pty.text());
    // Recorded under Docker Hub's name, as Docker records what a mirror served.
    let rows: Vec<String> = hub
        .env
        .images()
        .iter()
        .map(|i| format!("{} {}", i["Repository"], i["Tag"]))
        .collect();
    assert_eq!(rows, [r#""ubuntu" "latest""#]);

    // docker run -d --name c1 ubuntu sleep 1000: a host process, in the host's process list.
    let out = hub.run(&["run", "-d", "--name", &c1, "ubuntu", "sleep", "1000"]);
    assert_eq!(ok(&out), format!("{c1}\n"));
    let pid = ok(&hub.run(&["inspect", "--format", "{{.State.Pid}}", &c1]));
    let cmdline = std::fs::read_to_string(format!("/proc/{}/cmdline", pid.trim())).unwrap();
    assert_eq!(cmdline, "sleep\u{0}1000\u{0}");

    // docker run --network=host ubuntu: bash without a terminal ends at once; its net
    // namespace is the host's.
    let out = hub.run(&["run", "--network=host", "ubuntu"]);
    assert_eq!(ok(&out), "");
    let out = hub.run(&[
        "run",
        "--network=host",
        "ubuntu",
        "readlink",
        "/proc/self/ns/net",
    ]);
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    assert_eq!(ok(&out).trim(), host_net.to_str().unwrap());

    // docker run -d --memory=200m --cpus=1 ubuntu stress: the limits are the kernel's files,
    // on the host and in the container's own /sys/fs/cgroup.
    let out = hub.run(&["run", "-d", "--memory=200m", "--cpus=1", "ubuntu", "stress"]);
    let stress = ok(&out).trim().to_string();
    let memory = host_cgroup_file(
        &stress,
        Controller::Memory,
        "memory.limit_in_bytes",
        "memory.max",
    );
    assert_eq!(memory, "209715200");
    let quota = host_cgroup_file(&stress, Controller::Cpu, "cpu.cfs_quota_us", "cpu.max");
    assert!(quota == "100000" || quota == "100000 100000", "{quota}");
    let inside = hub.run(&[
        "exec",
        &stress,
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    assert_eq!(ok(&inside).trim(), "209715200");
    let pid = ok(&hub.run(&["inspect", "--format", "{{.State.Pid}}", &stress]));
    let cmdline = std::fs::read_to_string(format!("/proc/{}/cmdline", pid.trim())).unwrap();
    assert!(cmdline.contains("/usr/bin/stress"), "{cmdline:?}");

    // docker run --cap-drop=ALL ubuntu: root without a capability.
    let out = hub.run(&[
        "run",
        "--cap-drop=ALL",
        "ubuntu",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert_eq!(ok(&out), "CapEff:\t0000000000000000\n");

    // docker run nginx, published as the article's readers then try it: -p PORT:80, and a
    // page from the host over 127.0.0.1.
    let web = unique_name("nginx");
    let port = free_port();
    let publish = format!("{port}:80");
    let out = hub.run(&["run", "-d", "--name", &web, "-p", &publish, "nginx"]);
    assert_eq!(ok(&out), format!("{web}\n"));
    let page = http_get(port);
    assert!(
        page.starts_with("HTTP/1.") && page.contains("200"),
        "{page}"
    );
    assert!(page.contains("<h1>Welcome to nginx!</h1>"), "{page}");

    ok(&hub.run(&["stop", "-t", "1", &c1, &stress, &web]));
    ok(&hub.run(&["rm", &c1, &stress, &web]));
    for name in [&c1, &stress, &web] {
        assert_nothing_left(&hub.env, name);
    }
    let rules = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(!rules.contains(&format!("dport {port} ")), "{rules}");
}

/// Docker's fallback: a mirror that cannot be reached is passed over for the next; only
/// `docker.io` images go to mirrors; plain HTTP only to an insecure mirror, refused before
/// anything is asked of anyone.
#[test]
fn mirrors_are_asked_in_order_for_docker_hub_images_only() {
    let hub = Hub::new();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let pull = |mirrors: &str, reference: &str| {
        let mut cmd = hub.command(&["pull", "-q", reference]);
        cmd.env("BOX_REGISTRY_MIRRORS", mirrors);
        cmd.output().unwrap()
    };
    let out = pull(&format!("{dead}, {}", hub.mirror), "ubuntu");
    assert_eq!(ok(&out), "docker.io/library/ubuntu:latest\n");
    // Another registry's image never goes to a mirror (the dead one would fail it).
    let direct = format!("{}/library/nginx:latest", hub.env.registry.host());
    assert_eq!(ok(&pull(&dead, &direct)), format!("{direct}\n"));
    let out = pull("http://192.0.2.1:5000", "ubuntu");
    assert!(!out.status.success());
    insta::assert_snapshot!(stderr(&out).trim(), @"box: http://192.0.2.1:5000: registry mirror: plain HTTP only to an insecure registry: a loopback address, or one given with --insecure-registry or $BOX_INSECURE_REGISTRIES");
    let out = pull("mirror.example.com", "ubuntu");
    insta::assert_snapshot!(stderr(&out).trim(), @r#"box: registry mirror "mirror.example.com": must start with http:// or https://"#);
}
