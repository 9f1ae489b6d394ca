//! `box up` read without clap. Building clap's whole command tree (every subcommand, `box
//! run`'s Docker options) to read `box up FILE` took part of each start's time and most of
//! its heap; this reads the plain forms of `box up` only. Anything else — help, a flag given
//! twice, `-dt`, `--`, a value that looks like a flag, another command — is left to clap,
//! which then parses or rejects it as before: what this accepts, clap accepts the same way
//! (a test checks both on every form).

use std::ffi::OsString;
use std::path::PathBuf;

/// A `box up` command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Up {
    pub root: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub file: PathBuf,
    pub tty: bool,
    pub timings: bool,
    pub detach: bool,
}

/// `args` (without the program's name) as a plain `box up`, or `None`: ask clap.
pub fn parse_up(args: impl IntoIterator<Item = OsString>) -> Option<Up> {
    let mut args = args.into_iter();
    let mut up = Up::default();
    let mut file = None;
    let mut seen_up = false;
    while let Some(arg) = args.next() {
        let text = arg.to_str()?;
        match text {
            "up" if !seen_up => seen_up = true,
            "-t" | "--tty" if seen_up => set(&mut up.tty)?,
            "--timings" if seen_up => set(&mut up.timings)?,
            "-d" | "--detach" if seen_up => set(&mut up.detach)?,
            "--root" => set_value(&mut up.root, args.next()?)?,
            "--store" => set_value(&mut up.store, args.next()?)?,
            _ if text.starts_with("--root=") => set_value(&mut up.root, text[7..].into())?,
            _ if text.starts_with("--store=") => set_value(&mut up.store, text[8..].into())?,
            _ if seen_up && file.is_none() && !text.is_empty() && !text.starts_with('-') => {
                file = Some(PathBuf::from(arg));
            }
            _ => return None,
        }
    }
    up.file = file?;
    seen_up.then_some(up)
}

fn set(flag: &mut bool) -> Option<()> {
    (!std::mem::replace(flag, true)).then_some(())
}

fn set_value(slot: &mut Option<PathBuf>, value: OsString) -> Option<()> {
    let text = value.to_str()?;
    if slot.is_some() || text.is_empty() || text.starts_with('-') {
        return None;
    }
    *slot = Some(PathBuf::from(value));
    Some(())
}
