//! The words of mount options, read and written.

use super::{
    MountError, MountFlags, MountOptions, MountPropagation, PropagationType, ReadOnly, FLAGS,
};

const PROPAGATIONS: &[(&str, PropagationType)] = &[
    ("private", PropagationType::Private),
    ("slave", PropagationType::Slave),
    ("shared", PropagationType::Shared),
    ("unbindable", PropagationType::Unbindable),
];

impl MountPropagation {
    pub(super) fn parse(word: &str) -> Option<MountPropagation> {
        let (recursive, name) = match word.strip_prefix('r') {
            Some(rest) if PROPAGATIONS.iter().any(|(w, _)| *w == rest) => (true, rest),
            _ => (false, word),
        };
        let kind = PROPAGATIONS.iter().find(|(w, _)| *w == name)?.1;
        Some(MountPropagation { kind, recursive })
    }

    pub(super) fn word(self) -> String {
        let name = PROPAGATIONS
            .iter()
            .find(|(_, k)| *k == self.kind)
            .map_or("private", |(w, _)| w);
        if self.recursive {
            format!("r{name}")
        } else {
            name.to_string()
        }
    }
}

/// Words of `mount(8)`, runc or the OCI runtime spec that box does not do.
const UNSUPPORTED: &[&str] = &[
    "sync",
    "dirsync",
    "mand",
    "lazytime",
    "nolazytime",
    "silent",
    "iversion",
    "noiversion",
    "remount",
    "move",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnoatime",
    "ratime",
    "rrelatime",
    "rnorelatime",
    "rstrictatime",
    "rnostrictatime",
    "rnodiratime",
    "rdiratime",
    "rnosymfollow",
    "rsymfollow",
    "idmap",
    "ridmap",
    "tmpcopyup",
];

/// Words that ask for what the kernel does anyway: clearing flags box never sets.
const NO_OPS: &[&str] = &["defaults", "async", "loud", "nomand"];

/// The options of `words`, and whether they ask for a bind (`bind` or `rbind`).
pub(crate) fn parse<S: AsRef<str>>(words: &[S]) -> Result<(MountOptions, bool), MountError> {
    let mut o = MountOptions::default();
    let mut bind = false;
    let mut propagation_word: Option<&str> = None;
    for word in words {
        let word = word.as_ref();
        let invalid = |reason| MountError::Invalid {
            word: word.into(),
            reason,
        };
        if word.is_empty() {
            return Err(invalid("an option is not empty"));
        }
        if word.contains([',', '\0']) {
            return Err(invalid("an option holds no comma and no NUL byte"));
        }
        if let Some((flag, set_word, ..)) = FLAGS
            .iter()
            .find(|(_, set, clear, _)| *set == word || *clear == word)
        {
            if *set_word == word {
                o.set(*flag);
            } else {
                o.clear(*flag);
            }
            continue;
        }
        match word {
            "ro" => o.readonly = ReadOnly::Yes,
            "rro" => o.readonly = ReadOnly::Recursive,
            "rw" => o.readonly = ReadOnly::No,
            "bind" => bind = true,
            "rbind" => (bind, o.recursive) = (true, true),
            w if NO_OPS.contains(&w) => {}
            w if UNSUPPORTED.contains(&w) => return Err(MountError::Unsupported(w.into())),
            w => match MountPropagation::parse(w) {
                Some(p) => {
                    if let Some(first) = propagation_word {
                        return Err(MountError::TwoPropagations {
                            first: first.into(),
                            second: w.into(),
                        });
                    }
                    propagation_word = Some(w);
                    o.propagation = Some(p);
                }
                None => o.data.push(w.into()),
            },
        }
    }
    Ok((o, bind))
}

impl MountOptions {
    /// Sets `flag`; an access-time mode replaces the one set before.
    fn set(&mut self, flag: MountFlags) {
        if MountFlags::ATIME.contains(flag) {
            self.flags -= MountFlags::ATIME;
        }
        self.flags |= flag;
        self.cleared -= flag;
    }

    fn clear(&mut self, flag: MountFlags) {
        self.flags -= flag;
        self.cleared |= flag;
    }

    /// The words that [`parse`] reads back as these options; `bind`: the mount is a bind.
    pub(crate) fn words(&self, bind: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if bind {
            out.push(if self.recursive { "rbind" } else { "bind" }.into());
        }
        match self.readonly {
            ReadOnly::No => {}
            ReadOnly::Yes => out.push("ro".into()),
            ReadOnly::Recursive => out.push("rro".into()),
        }
        for (flag, set, clear, _) in FLAGS {
            if self.flags.contains(*flag) {
                out.push((*set).into());
            } else if self.cleared.contains(*flag) {
                out.push((*clear).into());
            }
        }
        if let Some(p) = self.propagation {
            out.push(p.word());
        }
        out.extend(self.data.iter().cloned());
        out
    }
}
