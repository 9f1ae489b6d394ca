//! What box writes about itself: shell completions (`box completion SHELL`, clap_complete)
//! and a man page per command (`box man DIR`, hidden; `cargo xtask man` calls it), both from
//! the one clap definition of the command line, so they cannot drift from it.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Command;

/// Completions for `shell` on stdout (written whole: clap_complete panics on a closed pipe).
pub fn completion(mut cmd: Command, shell: clap_complete::Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "box", &mut script);
    print!("{}", String::from_utf8_lossy(&script));
    0
}

/// `box.1` and `box-COMMAND.1` for every (visible) subcommand, in `dir`.
pub fn man(cmd: Command, dir: &Path) -> Result<i32> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let cmd = cmd.name("box");
    page(&cmd, "box", dir)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("box-{}", sub.get_name());
        // A page's NAME and SYNOPSIS say `box-run`, as git's pages do for `git run`.
        page(
            &sub.clone().name(name.clone()).display_name(name.clone()),
            &name,
            dir,
        )?;
    }
    Ok(0)
}

fn page(cmd: &Command, name: &str, dir: &Path) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .with_context(|| format!("render {name}.1"))?;
    std::fs::write(&path, out).with_context(|| format!("write {}", path.display()))
}
