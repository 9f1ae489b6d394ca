use super::*;

fn h(name: &str, controllers: &[&str]) -> CgroupHierarchy {
    CgroupHierarchy {
        name: name.into(),
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn co_mounted_controllers_get_a_link_each_to_their_directory() {
    let both = h("cpu,cpuacct", &["cpu", "cpuacct"]);
    assert_eq!(both.links().collect::<Vec<_>>(), ["cpu", "cpuacct"]);
    assert_eq!(h("memory", &["memory"]).links().count(), 0);
    assert_eq!(h("unified", &[]).links().count(), 0);
    // A hierarchy the host mounted under one controller's name: only the other gets a link.
    let named = h("net_cls", &["net_cls", "net_prio"]);
    assert_eq!(named.links().collect::<Vec<_>>(), ["net_prio"]);
}

#[test]
fn names_that_are_not_one_plain_component_or_clash_are_refused() {
    let ok = CgroupFs::Hierarchies(vec![
        h("cpu,cpuacct", &["cpu", "cpuacct"]),
        h("memory", &["memory"]),
        h("unified", &[]),
    ]);
    check(&ok).unwrap();
    check(&CgroupFs::Unified).unwrap();
    for bad in [
        vec![h("..", &["memory"])],
        vec![h("a/b", &["memory"])],
        vec![h("", &["memory"])],
        vec![h("memory", &["mem,ory"])],
        vec![h("memory", &["memory"]), h("memory", &["pids"])],
        // The link `cpu` would take the name of another hierarchy.
        vec![h("cpu", &["cpu"]), h("cpu,cpuacct", &["cpu", "cpuacct"])],
    ] {
        let err = check(&CgroupFs::Hierarchies(bad.clone())).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad:?}: {err}");
    }
}

#[test]
fn serde_shape() {
    let fs = CgroupFs::Hierarchies(vec![h("memory", &["memory"])]);
    let text = serde_json::to_string(&fs).unwrap();
    assert_eq!(
        text,
        r#"{"hierarchies":[{"name":"memory","controllers":["memory"]}]}"#
    );
    assert_eq!(serde_json::from_str::<CgroupFs>(&text).unwrap(), fs);
    assert_eq!(
        serde_json::to_string(&CgroupFs::Unified).unwrap(),
        r#""unified""#
    );
}
