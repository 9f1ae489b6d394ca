//! The default list, the box.toml constructors and the OCI form of a mount.

use super::*;
use crate::options::{MountPropagation, PropagationType};

fn words(m: &Mount) -> String {
    m.option_words().join(",")
}

/// Docker's default spec, mount by mount, with the options box has always used.
#[test]
fn default_mounts_are_dockers_with_boxs_options() {
    let all = default_mounts();
    let got: Vec<(String, &str, Option<PathBuf>, String)> = all
        .iter()
        .map(|m| {
            let dest = m.destination.display().to_string();
            (dest, m.kind.name(), m.source.clone(), words(m))
        })
        .collect();
    let want = [
        ("/proc", "proc", None, "nosuid,nodev,noexec"),
        ("/sys", "sysfs", None, "ro,nosuid,nodev,noexec"),
        (
            "/dev",
            "tmpfs",
            None,
            "nosuid,strictatime,mode=755,size=65536k",
        ),
        (
            "/dev/pts",
            "devpts",
            Some("devpts"),
            "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
        ),
        (
            "/dev/shm",
            "tmpfs",
            Some("tmpfs"),
            "nosuid,nodev,noexec,mode=1777,size=65536k",
        ),
        (
            "/dev/mqueue",
            "mqueue",
            Some("mqueue"),
            "nosuid,nodev,noexec",
        ),
    ];
    let want: Vec<(String, &str, Option<PathBuf>, String)> = want
        .iter()
        .map(|(d, t, s, o)| (d.to_string(), *t, s.map(PathBuf::from), o.to_string()))
        .collect();
    assert_eq!(got, want);
    assert!(
        !default_mounts()
            .iter()
            .any(|m| m.destination.starts_with("/sys/fs/cgroup")),
        "no cgroupfs yet"
    );
}

#[test]
fn box_toml_mounts() {
    let b = Mount::bind("/srv", "/data", true);
    assert_eq!((b.kind, words(&b).as_str()), (MountType::Bind, "rbind,rro"));
    assert_eq!(b.source.as_deref(), Some(std::path::Path::new("/srv")));
    assert_eq!(words(&Mount::bind("/srv", "/data", false)), "rbind");
    // The tmpfs data strings box has always passed.
    let t = |size, mode| Mount::tmpfs("/t", size, mode).options.data.join(",");
    assert_eq!(t(None, None), "");
    assert_eq!(t(Some(65536), None), "size=65536");
    assert_eq!(t(None, Some(0o1777)), "mode=1777");
    assert_eq!(t(Some(1 << 20), Some(0o755)), "size=1048576,mode=755");
    let tmpfs = Mount::tmpfs("/t", None, None);
    assert_eq!(words(&tmpfs), "nosuid,nodev");
    assert_eq!(tmpfs.source.as_deref(), Some(std::path::Path::new("tmpfs")));
}

/// runc's default spec, as `config.json` lists it, maps onto box's mounts one to one.
#[test]
fn runc_default_spec_parses() {
    let parse = |dest: &str, t: &str, src: &str, opts: &[&str]| {
        Mount::parse(dest, Some(t), Some(src.into()), opts).unwrap()
    };
    let proc = parse("/proc", "proc", "proc", &[]);
    assert_eq!(proc.kind, MountType::Proc);
    let dev = parse(
        "/dev",
        "tmpfs",
        "tmpfs",
        &["nosuid", "strictatime", "mode=755", "size=65536k"],
    );
    assert_eq!(dev.options, default_mounts()[2].options);
    let pts = parse(
        "/dev/pts",
        "devpts",
        "devpts",
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    );
    assert_eq!(pts, default_mounts()[3]);
    let shm = parse(
        "/dev/shm",
        "tmpfs",
        "shm",
        &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    );
    assert_eq!(shm.options, default_mounts()[4].options);
    let mq = parse(
        "/dev/mqueue",
        "mqueue",
        "mqueue",
        &["nosuid", "noexec", "nodev"],
    );
    assert_eq!(mq, default_mounts()[5]);
    let sys = parse(
        "/sys",
        "sysfs",
        "sysfs",
        &["nosuid", "noexec", "nodev", "ro"],
    );
    assert_eq!(sys.options, default_mounts()[1].options);
    // The cgroupfs line is refused by name, not mounted as something else.
    assert_eq!(
        Mount::parse("/sys/fs/cgroup", Some("cgroup"), None, &["ro"]),
        Err(MountError::UnknownType("cgroup".into()))
    );
}

/// Docker's `-v /src:/dst:ro` and `--mount type=bind,...,bind-propagation=rslave`.
#[test]
fn docker_binds_parse() {
    let m = Mount::parse(
        "/dst",
        None,
        Some("/src".into()),
        &["rbind", "rro", "rprivate"],
    )
    .unwrap();
    assert_eq!(m.kind, MountType::Bind);
    assert!(m.options.recursive);
    assert_eq!(m.options.readonly, ReadOnly::Recursive);
    let rprivate = MountPropagation {
        kind: PropagationType::Private,
        recursive: true,
    };
    assert_eq!(m.options.propagation, Some(rprivate));
    // The type is ignored when an option says bind, as OCI runtimes do.
    let m = Mount::parse(
        "/d",
        Some("none"),
        Some("/s".into()),
        &["bind", "ro", "rslave"],
    )
    .unwrap();
    assert_eq!((m.kind, m.options.recursive), (MountType::Bind, false));
    assert_eq!(m.options.readonly, ReadOnly::Yes);
    assert_eq!(words(&m), "bind,ro,rslave");
    assert_eq!(
        Mount::parse::<&str>("/d", None, None, &[]),
        Err(MountError::NoType)
    );
    let typed = Mount::parse::<&str>("/d", Some("bind"), Some("/s".into()), &[]).unwrap();
    assert_eq!(
        (typed.kind, typed.options.recursive),
        (MountType::Bind, false)
    );
}

#[test]
fn serde_is_the_oci_form() {
    let m = Mount::bind("/srv", "/data", true);
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(
        json,
        r#"{"destination":"/data","type":"bind","source":"/srv","options":["rbind","rro"]}"#
    );
    assert_eq!(serde_json::from_str::<Mount>(&json).unwrap(), m);
    let json = serde_json::to_string(&default_mounts()[0]).unwrap();
    assert_eq!(
        json,
        r#"{"destination":"/proc","type":"proc","options":["nosuid","nodev","noexec"]}"#
    );
    for m in default_mounts() {
        let back: Mount = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
    let bad = r#"{"destination":"/x","type":"ext 4","source":"/dev/sda1"}"#;
    let err = serde_json::from_str::<Mount>(bad).unwrap_err().to_string();
    assert!(err.contains("\"ext 4\" is not supported"), "{err}");
}

/// Any other filesystem type: its name, source and options kept as given.
#[test]
fn any_filesystem_type_parses() {
    let m = Mount::parse(
        "/merged",
        Some("overlay"),
        Some("overlay".into()),
        &[
            "ro",
            "nodev",
            "lowerdir=/l1:/l2",
            "upperdir=/u",
            "workdir=/w",
            "rslave",
        ],
    )
    .unwrap();
    assert_eq!(m.kind, MountType::Other(FsType::new("overlay").unwrap()));
    assert_eq!(m.kind.name(), "overlay");
    assert_eq!(m.options.readonly, ReadOnly::Yes);
    assert_eq!(m.options.flags, MountFlags::NODEV);
    assert_eq!(
        m.options.data,
        ["lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w"]
    );
    assert!(m.options.propagation.is_some());
    // Round trip through OCI's JSON form.
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains(r#""type":"overlay""#), "{json}");
    assert_eq!(serde_json::from_str::<Mount>(&json).unwrap(), m);
    let ramfs = Mount::parse("/r", Some("ramfs"), None, &["noexec"]).unwrap();
    assert_eq!(ramfs.kind.name(), "ramfs");
    assert!(matches!(
        Mount::parse("/x", Some("no such,type"), None, &[] as &[&str]),
        Err(MountError::UnknownType(_))
    ));
}
