//! Damaged state files, and a state root on a full disk.

use std::path::Path;
use std::process::Command;

use super::{assert_gone, no_such, parallel, remove_and_check, Phase, GRACE};
use crate::chaos::check;
use crate::chaos::run::{nix_umount, Env};
use crate::chaos::Options;

/// Running containers whose `state.json` is truncated, garbled or removed: `ps -a` still
/// lists each, `stop` stops it (checked in the process table), plain `rm` removes it.
pub fn damage(env: &Env, opts: &Options, phase: &Phase) {
    let names: Vec<String> = (0..opts.damage).map(|i| env.name("d", i)).collect();
    parallel(names.len(), opts.parallel, &|i| {
        let name = &names[i];
        let file = match env.file(name, &["/bin/sleep", "1000"]) {
            Ok(f) => f.display().to_string(),
            Err(e) => return phase.fail(format!("{name}: {e:#}")),
        };
        let up = env.run(&["up", "-d", &file]);
        if !up.ok() {
            return phase.fail(up.describe(&format!("up -d {name}")));
        }
        let state = env.state.join(name).join("state.json");
        let damaged = match i % 3 {
            0 => std::fs::write(&state, b""),
            1 => std::fs::write(&state, b"{\"name\": \"garbage"),
            _ => std::fs::remove_file(&state),
        };
        if let Err(e) = damaged {
            phase.fail(format!("{name}: damage {}: {e}", state.display()));
        }
    });
    let ps = env.run(&["ps", "-a"]);
    if !ps.ok() {
        phase.fail(ps.describe("ps -a with damaged state"));
    }
    for name in &names {
        if !ps.stdout.contains(name.as_str()) {
            phase.fail(format!(
                "ps -a does not list {name}, whose state is damaged"
            ));
        }
    }
    parallel(names.len(), opts.parallel, &|i| {
        let name = &names[i];
        let stop = env.run(&["stop", "-t", "1", name]);
        if !stop.ok() {
            phase.fail(stop.describe(&format!("stop {name} (damaged state)")));
        }
        let left = check::survivors(env, name, GRACE);
        if !left.is_empty() {
            phase.fail(format!("stop {name}: processes {left:?} still run"));
        }
        let rm = env.run(&["rm", name]);
        if !rm.ok() {
            phase.fail(rm.describe(&format!("rm {name} (damaged state)")));
        }
        remove_and_check(env, phase, name);
    });
}

/// A state root on a tiny tmpfs, filled up: `up -d` fails cleanly (no hang, nothing left
/// running); containers started before the disk filled can still be stopped and removed.
pub fn full_disk(env: &Env, opts: &Options, phase: &Phase) {
    let root = env.work.path().join("full");
    if let Err(e) = mount_tmpfs(&root) {
        return phase.fail(format!("mount a tmpfs on {}: {e:#}", root.display()));
    }
    let early: Vec<String> = (0..3).map(|i| env.name("e", i)).collect();
    for name in &early {
        start_in(env, phase, &root, name, true);
    }
    fill(&root.join("filler"));
    let late: Vec<String> = (0..phase.attempts).map(|i| env.name("f", i)).collect();
    parallel(late.len(), opts.parallel, &|i| {
        start_in(env, phase, &root, &late[i], false);
    });
    let ps = env.run_in(&root, &["ps", "-a"]);
    if ps.hung {
        phase.fail(ps.describe("ps -a on a full disk"));
    }
    for name in &early {
        let stop = env.run_in(&root, &["stop", "-t", "1", name]);
        if stop.hung {
            phase.fail(stop.describe(&format!("stop {name} on a full disk")));
        }
        let left = check::survivors(env, name, GRACE);
        if !left.is_empty() {
            phase.fail(format!("stop {name} on a full disk: {left:?} still run"));
        }
    }
    let _ = std::fs::remove_file(root.join("filler"));
    for name in early.iter().chain(&late) {
        let rm = env.run_in(&root, &["rm", "-f", name]);
        if !rm.ok() && !no_such(&rm.stderr) {
            phase.fail(rm.describe(&format!("rm -f {name} after the disk was freed")));
        }
        if root.join(name).exists() {
            phase.fail(format!("{name}: state left after rm -f on a freed disk"));
        }
        assert_gone(env, phase, name);
    }
    if let Err(e) = nix_umount(&root) {
        phase.fail(format!("umount {}: {e}", root.display()));
    }
}

/// `up -d` in `root`; `must_work` says whether the disk still had room.
fn start_in(env: &Env, phase: &Phase, root: &Path, name: &str, must_work: bool) {
    let file = match env.file(name, &["/bin/sleep", "1000"]) {
        Ok(f) => f.display().to_string(),
        Err(e) => return phase.fail(format!("{name}: {e:#}")),
    };
    let up = env.run_in(root, &["up", "-d", &file]);
    if up.hung || (must_work && !up.ok()) {
        phase.fail(up.describe(&format!("up -d {name}")));
    }
    if !up.ok() {
        // A failed start leaves nothing running.
        let left = check::survivors(env, name, GRACE);
        if !left.is_empty() {
            phase.fail(format!("up -d {name} failed, but {left:?} still run"));
        }
    }
}

fn mount_tmpfs(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k,mode=700", "box-chaos"])
        .arg(dir)
        .status()?;
    anyhow::ensure!(status.success(), "mount: {status}");
    Ok(())
}

/// Writes until the filesystem is full.
fn fill(path: &Path) {
    use std::io::Write;
    let Ok(mut f) = std::fs::File::create(path) else {
        return;
    };
    let block = [0u8; 4096];
    while f.write_all(&block).is_ok() {}
}
