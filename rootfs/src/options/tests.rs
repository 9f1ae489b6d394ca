//! Option words to typed options and back.

use super::*;

fn ok(words: &[&str]) -> MountOptions {
    parse(words).unwrap().0
}

#[test]
fn flags_and_their_clearing_words() {
    let o = ok(&["nosuid", "nodev", "noexec", "nosymfollow", "nodiratime"]);
    let want = MountFlags::NOSUID
        | MountFlags::NODEV
        | MountFlags::NOEXEC
        | MountFlags::NOSYMFOLLOW
        | MountFlags::NODIRATIME;
    assert_eq!((o.flags, o.cleared), (want, MountFlags::empty()));
    // The later word wins; a cleared flag is remembered (a bind drops it).
    let o = ok(&["nosuid", "suid", "dev", "exec", "noexec"]);
    assert_eq!(o.flags, MountFlags::NOEXEC);
    assert_eq!(o.cleared, MountFlags::NOSUID | MountFlags::NODEV);
    assert_eq!(
        o.flags.ms(),
        MsFlags::MS_NOEXEC,
        "mount(2) gets only what is set"
    );
}

#[test]
fn one_access_time_mode() {
    assert_eq!(
        ok(&["noatime", "strictatime"]).flags,
        MountFlags::STRICTATIME
    );
    assert_eq!(ok(&["strictatime", "relatime"]).flags, MountFlags::RELATIME);
    let o = ok(&["noatime", "nodiratime", "atime"]);
    assert_eq!(
        (o.flags, o.cleared),
        (MountFlags::NODIRATIME, MountFlags::NOATIME)
    );
}

#[test]
fn read_only_bind_and_no_ops() {
    assert_eq!(ok(&["ro"]).readonly, ReadOnly::Yes);
    assert_eq!(ok(&["rro"]).readonly, ReadOnly::Recursive);
    assert_eq!(ok(&["ro", "rw"]).readonly, ReadOnly::No);
    assert_eq!(parse(&["bind"]).unwrap(), (MountOptions::default(), true));
    let (o, bind) = parse(&["rbind"]).unwrap();
    assert!(bind && o.recursive);
    assert_eq!(
        parse(&["defaults", "async", "loud", "nomand"]).unwrap(),
        (MountOptions::default(), false)
    );
    assert_eq!(ok(&["ro"]).fresh_ms(), MsFlags::MS_RDONLY);
    assert_eq!(
        ok(&["rro", "nodev"]).fresh_ms(),
        MsFlags::MS_RDONLY | MsFlags::MS_NODEV
    );
}

#[test]
fn propagation_words() {
    for (word, kind, recursive, ms) in [
        (
            "private",
            PropagationType::Private,
            false,
            MsFlags::MS_PRIVATE,
        ),
        (
            "rprivate",
            PropagationType::Private,
            true,
            MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        ),
        ("slave", PropagationType::Slave, false, MsFlags::MS_SLAVE),
        (
            "rslave",
            PropagationType::Slave,
            true,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
        ),
        ("shared", PropagationType::Shared, false, MsFlags::MS_SHARED),
        (
            "rshared",
            PropagationType::Shared,
            true,
            MsFlags::MS_SHARED | MsFlags::MS_REC,
        ),
        (
            "unbindable",
            PropagationType::Unbindable,
            false,
            MsFlags::MS_UNBINDABLE,
        ),
        (
            "runbindable",
            PropagationType::Unbindable,
            true,
            MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        ),
    ] {
        let p = ok(&[word]).propagation.unwrap();
        assert_eq!(
            (p.kind, p.recursive, p.ms()),
            (kind, recursive, ms),
            "{word}"
        );
        assert_eq!(p.word(), word);
    }
    assert_eq!(
        parse(&["rprivate", "rslave"]),
        Err(MountError::TwoPropagations {
            first: "rprivate".into(),
            second: "rslave".into()
        })
    );
}

#[test]
fn filesystem_options_pass_through_in_order() {
    let o = ok(&[
        "newinstance",
        "ptmxmode=0666",
        "nosuid",
        "mode=0620",
        "gid=5",
        "acl",
    ]);
    assert_eq!(
        o.data,
        ["newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "acl"]
    );
    assert!(ok(&["nosuid"]).data.is_empty());
    // Words that look like an option of box's but are not: the filesystem's.
    assert_eq!(
        ok(&["rprivatex", "r", "nosuidx"]).data,
        ["rprivatex", "r", "nosuidx"]
    );
}

#[test]
fn refused_words() {
    for word in [
        "sync",
        "remount",
        "rnosuid",
        "rrw",
        "idmap",
        "ridmap",
        "tmpcopyup",
        "lazytime",
    ] {
        assert_eq!(
            parse(&[word]),
            Err(MountError::Unsupported(word.into())),
            "{word}"
        );
    }
    for word in ["", "mode=755,size=1k", "a\0b"] {
        assert!(
            matches!(parse(&[word]), Err(MountError::Invalid { .. })),
            "{word:?}"
        );
    }
}

/// Whatever is parsed is written back in words that parse to the same options.
#[test]
fn words_round_trip() {
    let cases: &[&[&str]] = &[
        &[],
        &["rbind", "rro", "rprivate"],
        &[
            "bind",
            "ro",
            "nosuid",
            "suid",
            "dev",
            "strictatime",
            "shared",
        ],
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
        &[
            "noatime",
            "atime",
            "norelatime",
            "nostrictatime",
            "diratime",
            "symfollow",
            "exec",
        ],
    ];
    for words in cases {
        let (o, bind) = parse(words).unwrap();
        let again = o.words(bind);
        assert_eq!(
            parse(&again).unwrap(),
            (o.clone(), bind),
            "{words:?} -> {again:?}"
        );
    }
    let (o, bind) = parse(&["mode=755", "nosuid", "ro", "rbind"]).unwrap();
    assert_eq!(
        o.words(bind),
        ["rbind", "ro", "nosuid", "mode=755"],
        "canonical order"
    );
}
