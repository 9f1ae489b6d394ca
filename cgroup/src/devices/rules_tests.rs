//! The rule model's text form, checks and merging.

use super::*;

#[test]
fn text_round_trips() {
    for text in [
        "c 1:3 rwm",
        "b *:* m",
        "c 136:* rwm",
        "a *:* rwm",
        "b 7:0 rw",
    ] {
        let rule: DeviceRule = text.parse().unwrap();
        assert_eq!(rule.to_string(), text);
    }
    assert_eq!("a".parse::<DeviceRule>().unwrap(), DeviceRule::ALLOW_ALL);
    assert_eq!(
        "c 1:3 mwr".parse::<DeviceRule>().unwrap().to_string(),
        "c 1:3 rwm"
    );
    for bad in [
        "",
        "x 1:3 rwm",
        "c 1:3",
        "c 13 rwm",
        "c 1:3 rwx",
        "c 1:3 rr",
        "c -1:3 r",
    ] {
        assert!(bad.parse::<DeviceRule>().is_err(), "{bad:?}");
    }
    let json = serde_json::to_string(&DEFAULT_DEVICE_RULES[2]).unwrap();
    assert_eq!(json, r#""c 1:3 rwm""#);
    let back: DeviceRule = serde_json::from_str(r#""b 8:* r""#).unwrap();
    assert_eq!(back, DeviceRule::block(Some(8), None, DeviceAccess::READ));
}

#[test]
fn narrowed_all_and_huge_numbers_are_refused() {
    for bad in ["a *:* m", "a 1:3 rwm", "c 4096:0 r", "c 1:1048576 r"] {
        let rule: DeviceRule = bad.parse().unwrap();
        assert!(rule.check().is_err(), "{bad}");
    }
    for good in DEFAULT_DEVICE_RULES.iter().chain([&DeviceRule::ALLOW_ALL]) {
        good.check().unwrap();
    }
}

#[test]
fn defaults_are_dockers_list() {
    let text: Vec<String> = DEFAULT_DEVICE_RULES.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        text,
        [
            "c *:* m",
            "b *:* m",
            "c 1:3 rwm",
            "c 1:5 rwm",
            "c 1:7 rwm",
            "c 1:8 rwm",
            "c 1:9 rwm",
            "c 5:0 rwm",
            "c 5:1 rwm",
            "c 5:2 rwm",
            "c 136:* rwm"
        ]
    );
}

#[test]
fn normalize_merges_like_the_kernel() {
    let rules: Vec<DeviceRule> = ["c 1:3 r", "b 7:0 rw", "c 1:3 w", "c 1:* m"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let merged: Vec<String> = normalize(&rules).iter().map(|r| r.to_string()).collect();
    assert_eq!(merged, ["c 1:3 rw", "b 7:0 rw", "c 1:* m"]);
    let mut with_all = rules.clone();
    with_all.push(DeviceRule::ALLOW_ALL);
    assert_eq!(normalize(&with_all), [DeviceRule::ALLOW_ALL]);
    assert!(normalize(&[]).is_empty());
}

#[test]
fn allows_matches_type_numbers_and_access() {
    use DeviceKind::{Block, Char};
    let pts = DeviceRule::char(Some(136), None, DeviceAccess::RWM);
    assert!(pts.allows(Char, 136, 7, DeviceAccess::RW));
    assert!(!pts.allows(Block, 136, 7, DeviceAccess::READ));
    assert!(!pts.allows(Char, 137, 7, DeviceAccess::READ));
    let mknod = DeviceRule::block(None, None, DeviceAccess::MKNOD);
    assert!(mknod.allows(Block, 7, 0, DeviceAccess::MKNOD));
    assert!(!mknod.allows(Block, 7, 0, DeviceAccess::READ));
    assert!(DeviceRule::ALLOW_ALL.allows(Block, 8, 0, DeviceAccess::RWM));
}
