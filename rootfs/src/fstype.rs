//! The name of a filesystem type box has no special handling for (`ramfs`, `overlay`, `ext4`,
//! `fuse.sshfs`): mounted as its options say, its source as given. Kept inline so that
//! [`MountType`](crate::MountType) stays `Copy`.

use std::fmt;

use crate::options::MountError;

/// Longest name kept (the kernel's are far shorter: `fuse.` plus a subtype at most).
const MAX: usize = 38;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FsType {
    len: u8,
    bytes: [u8; MAX],
}

impl FsType {
    /// A type name: 1 to 38 of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit.
    pub fn new(name: &str) -> Result<FsType, MountError> {
        let ok = !name.is_empty()
            && name.len() <= MAX
            && name.as_bytes()[0].is_ascii_alphanumeric()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !ok {
            return Err(MountError::UnknownType(name.into()));
        }
        let mut bytes = [0; MAX];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(FsType {
            len: name.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `new`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for FsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_kept_and_refused() {
        for name in ["ramfs", "overlay", "ext4", "fuse.sshfs", "9p", "nfs4"] {
            assert_eq!(FsType::new(name).unwrap().as_str(), name);
        }
        for bad in [
            "",
            "Ext4",
            "a b",
            "x,y",
            "../x",
            ".x",
            &"a".repeat(39),
            "ramfs\0",
        ] {
            assert!(FsType::new(bad).is_err(), "{bad:?}");
        }
    }
}
