//! Reference parsing against Docker's normalization and grammar.

use super::*;

fn full(text: &str) -> String {
    Reference::parse(text).unwrap().to_string()
}

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn docker_normalization() {
    assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
    assert_eq!(full("ubuntu:24.04"), "docker.io/library/ubuntu:24.04");
    assert_eq!(
        full("docker.io/library/ubuntu:24.04"),
        "docker.io/library/ubuntu:24.04"
    );
    assert_eq!(
        full("index.docker.io/nginx"),
        "docker.io/library/nginx:latest"
    );
    assert_eq!(full("user/app"), "docker.io/user/app:latest");
    assert_eq!(full("docker.io/user/app"), "docker.io/user/app:latest");
    assert_eq!(full("localhost/app"), "localhost/app:latest");
    assert_eq!(full("localhost:5000/a/b:v1"), "localhost:5000/a/b:v1");
    assert_eq!(full("quay.io/org/app"), "quay.io/org/app:latest");
    assert_eq!(
        full(&format!("host:5000/app@{D}")),
        format!("host:5000/app@{D}")
    );
    assert_eq!(
        full(&format!("app:1@{D}")),
        format!("docker.io/library/app:1@{D}")
    );
    assert_eq!(full("[::1]:5000/app"), "[::1]:5000/app:latest");
    // Docker's rule: an uppercase first component can only be a registry.
    assert_eq!(full("Host/app"), "Host/app:latest");
    assert_eq!(
        full("127.0.0.1:5000/a-b__c.d/e---f"),
        "127.0.0.1:5000/a-b__c.d/e---f:latest"
    );
}

#[test]
fn parts_and_forms() {
    let r = Reference::parse("busybox").unwrap();
    assert_eq!(r.registry(), "docker.io");
    assert_eq!(r.api_host(), "registry-1.docker.io");
    assert_eq!(r.repository(), "library/busybox");
    assert_eq!(r.tag(), Some("latest"));
    assert_eq!(r.api_reference(), "latest");
    assert_eq!(r.familiar_name(), "busybox");
    assert_eq!(r.name(), "docker.io/library/busybox");
    let pinned = r.with_digest(Digest::parse(D).unwrap());
    assert_eq!(pinned.api_reference(), D);
    assert_eq!(pinned.to_string(), format!("docker.io/library/busybox@{D}"));
    let r = Reference::parse("localhost:5000/app:1").unwrap();
    assert_eq!(r.api_host(), "localhost:5000");
    assert_eq!(r.familiar_name(), "localhost:5000/app");
    assert_eq!(
        Reference::parse("user/app").unwrap().familiar_name(),
        "user/app"
    );
}

#[test]
fn malformed_references_are_refused() {
    let long_tag = format!("a:{}", "t".repeat(129));
    let long_name = "a".repeat(256);
    let id = "a".repeat(64);
    for text in [
        "",
        "Busybox",
        "host/UPPER",
        "a//b",
        "/a",
        "a/",
        ":tag",
        "a:",
        "a:-tag",
        "a:.tag",
        "a:t/g",
        "a@sha256:abc",
        "a@",
        "-a",
        "a-",
        "a..b",
        "a_._b",
        "host:port/a",
        "host:/a",
        "bad_host.com/a",
        "-host.com/a",
        "[zz]:5000/a",
        "a b",
        "a/../b",
        "../a",
        "a\0b",
        long_tag.as_str(),
        long_name.as_str(),
        id.as_str(),
    ] {
        assert!(Reference::parse(text).is_err(), "{text:?} was accepted");
    }
    let e = Reference::parse("Busybox").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid reference \"Busybox\": repository name must be lowercase"
    );
    assert!(
        Reference::parse(&format!("{id}:tag")).is_ok(),
        "a tag makes it a name"
    );
}

#[test]
fn retagging() {
    let r = Reference::parse(&format!("app:1@{D}")).unwrap();
    assert_eq!(
        r.with_tag("2").unwrap().to_string(),
        "docker.io/library/app:2"
    );
    assert!(r.with_tag("bad/tag").is_err());
}
