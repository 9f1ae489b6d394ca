//! The masked-paths race: a second container that can write the first one's root swaps its
//! `/proc` with another directory (`renameat2(RENAME_EXCHANGE)`) in a tight loop while the
//! victim starts again and again. Were masks applied by name, some starts would get the
//! procfs unmasked and writable under the other name. Every start must either fail cleanly or
//! see every procfs it can reach masked and read-only, and the host's sysctl must not change.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use box_tests::{busybox_rootfs, ok, stderr, stdout, Case, StateRoot};

const STARTS: usize = 100;

/// A host-wide sysctl that is harmless to change; the victim tries to write to it.
const SYSCTL: &str = "/proc/sys/fs/lease-break-time";

fn masks_bin() -> &'static str {
    env!("CARGO_BIN_EXE_box-masks")
}

/// Puts the file at `bin` into `root` at `at`, with the shared libraries it needs at their
/// host paths (the busybox root has none).
fn install(bin: &Path, root: &Path, at: &str) {
    let copy = |from: &Path, to: &str| {
        let dest = root.join(to.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(from, &dest).expect("copy into the root");
    };
    copy(bin, at);
    let out = Command::new("ldd").arg(bin).output().expect("run ldd");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let libs: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')))
        .collect();
    assert!(!libs.is_empty(), "ldd found no libraries:\n{text}");
    for lib in libs {
        let real = std::fs::canonicalize(lib).expect("canonicalize a library");
        copy(&real, lib);
    }
}

/// The host's value of [`SYSCTL`]; put back (and the test failed) should it change.
struct Sysctl(String);

impl Sysctl {
    fn read() -> Sysctl {
        Sysctl(std::fs::read_to_string(SYSCTL).expect("read the sysctl"))
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let now = std::fs::read_to_string(SYSCTL).expect("read the sysctl");
        if now != self.0 {
            std::fs::write(SYSCTL, &self.0).expect("restore the sysctl");
            assert!(
                std::thread::panicking(),
                "a container changed the host's {SYSCTL}: {:?} -> {now:?}",
                self.0
            );
        }
    }
}

/// Waits (bounded) until the entry `proc` of `root` changes inode: the attacker is swapping.
fn assert_swapping(root: &Path) {
    let ino = || std::fs::symlink_metadata(root.join("proc")).map(|m| m.ino());
    let first = ino().expect("stat proc");
    for _ in 0..10_000 {
        if ino().expect("stat proc") != first {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!(
        "the attacker is not swapping {}",
        root.join("proc").display()
    );
}

/// What one start of the victim showed.
#[derive(Debug, PartialEq)]
enum Start {
    /// It ran, and every procfs it could reach was masked and read-only.
    Protected,
    /// box refused to start it: /proc had been swapped.
    Refused,
}

fn judge(out: &std::process::Output) -> Result<Start, String> {
    if !out.status.success() {
        let err = stderr(out);
        return if err.contains("/proc is no longer the procfs box mounted there") {
            Ok(Start::Refused)
        } else {
            Err(format!("failed otherwise: {err}"))
        };
    }
    let text = stdout(out);
    let mut procfs = 0;
    for line in text.lines() {
        let (path, value) = line.rsplit_once(": ").ok_or(format!("bad line {line:?}"))?;
        let fine = match value {
            "procfs" => {
                procfs += 1;
                true
            }
            "not procfs" | "masked" | "ro" => true,
            "30" => path.ends_with("lease-break-time"),
            _ => false,
        };
        if !fine {
            return Err(format!("UNPROTECTED ({line}):\n{text}"));
        }
    }
    if procfs == 0 {
        return Err(format!("no procfs at /proc or /swap:\n{text}"));
    }
    Ok(Start::Protected)
}

#[test]
fn swapping_proc_while_a_container_starts_never_unmasks_it() {
    let victim = Case::new("masks-victim", "");
    let root = busybox_rootfs(victim.dir.path());
    std::fs::create_dir(root.join("swap")).expect("mkdir swap");
    install(Path::new(masks_bin()), &root, "/masks");
    let sysctl = Sysctl::read();
    let other: u64 = sysctl.0.trim().parse::<u64>().expect("a number") + 1;
    let body = format!(
        "name = \"{}\"\nrootfs = \"rootfs\"\ncommand = [\"/masks\", \"check\", \"{other}\", \"/proc\", \"/swap\"]\n",
        victim.name
    );
    std::fs::write(victim.file(), body).expect("write box.toml");

    let root_str = root.to_str().expect("utf-8 path");
    let attacker = Case::new(
        "masks-attacker",
        &format!(
            "command = [\"/masks\", \"swap\", \"/victim\", \"proc\", \"swap\"]\n\
             [[mounts]]\ntype = \"bind\"\nsource = \"{root_str}\"\ntarget = \"/victim\"\n\
             [[mounts]]\ntype = \"bind\"\nsource = \"{}\"\ntarget = \"/masks\"\nreadonly = true\n",
            masks_bin()
        ),
    );
    let mut state = StateRoot::new();
    state.up(&attacker);
    assert_swapping(&root);

    let mut starts = Vec::with_capacity(STARTS);
    let mut bad = Vec::new();
    for i in 0..STARTS {
        match judge(&victim.up()) {
            Ok(start) => starts.push(start),
            Err(msg) => bad.push(format!("start {i}: {msg}")),
        }
    }
    assert_swapping(&root);
    assert!(
        bad.is_empty(),
        "{} of {STARTS} starts:\n{}",
        bad.len(),
        bad.join("\n")
    );
    let protected = starts.iter().filter(|s| **s == Start::Protected).count();
    eprintln!(
        "{protected} starts protected, {} refused",
        STARTS - protected
    );
    // Some starts ran, so the checks above saw the masks from inside.
    assert!(protected > 0, "every start was refused");

    ok(&state.run(&["rm", "-f", &attacker.name]));
    state.names.clear();
    victim.assert_nothing_left();
    attacker.assert_nothing_left();
    drop(sysctl); // asserts the host's value did not change
}
