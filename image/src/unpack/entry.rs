//! One tar entry, read with box's own limits: GNU long names and PAX headers are read here
//! (the tar crate in raw mode), each at most 1 MiB, as Go's archive/tar bounds them, so that a
//! layer cannot make box hold gigabytes of "header" in memory.

use std::io::Read;

use tar::{EntryType, PaxExtensions};

use super::UnpackError;

/// The largest GNU long name, long link or PAX header box reads.
const EXTENSION_MAX: u64 = 1 << 20;

/// Extension headers seen before the entry they describe.
#[derive(Default)]
pub struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// What to make of one entry.
pub struct Entry {
    /// The entry's path, as written (for messages).
    pub shown: String,
    /// Its components below the layer's root: no `.`, no `..`, no empty ones.
    pub path: Vec<Vec<u8>>,
    pub kind: EntryType,
    /// A symlink's target as written, or a hard link's path inside the layer.
    pub link: Option<Vec<u8>>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub device: (u32, u32),
    /// `(name, value)` of each extended attribute (PAX `SCHILY.xattr.*`).
    pub xattrs: Vec<(String, Vec<u8>)>,
}

impl Entry {
    /// A file system call's failure while making this entry.
    pub fn failed(&self, step: &'static str, errno: nix::errno::Errno) -> UnpackError {
        UnpackError::Fs {
            entry: self.shown.clone(),
            step,
            errno,
        }
    }
}

impl Pending {
    /// Takes in an extension header (and returns true), or leaves a real entry alone.
    pub fn absorb<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<bool, UnpackError> {
        let kind = entry.header().entry_type();
        let slot = match kind {
            EntryType::GNULongName => &mut self.long_name,
            EntryType::GNULongLink => &mut self.long_link,
            EntryType::XHeader => &mut self.pax,
            // Global PAX headers set defaults box has no use for (and Docker ignores).
            EntryType::XGlobalHeader => {
                read_limited(entry)?;
                return Ok(true);
            }
            _ => return Ok(false),
        };
        if slot.is_some() {
            return Err(refused(
                b"",
                "two extension headers of one kind for one entry",
            ));
        }
        let mut data = read_limited(entry)?;
        if matches!(kind, EntryType::GNULongName | EntryType::GNULongLink) {
            while data.last() == Some(&0) {
                data.pop();
            }
        }
        *slot = Some(data);
        Ok(true)
    }

    /// Describes the real entry the pending headers belong to, and forgets them.
    pub fn describe<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Result<Entry, UnpackError> {
        let pending = std::mem::take(self);
        let header = entry.header();
        let mut path = pending
            .long_name
            .unwrap_or_else(|| header.path_bytes().into_owned());
        let mut link = pending
            .long_link
            .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        let mut xattrs = Vec::new();
        // An empty numeric field is 0, as Go's archive/tar (which wrote most layers) reads it.
        let old = header.as_old();
        let number = |value: std::io::Result<u64>, raw: &[u8]| match value {
            Ok(v) => Some(v),
            Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Some(0),
            Err(_) => None,
        };
        let mut uid = number(header.uid(), &old.uid);
        let mut gid = number(header.gid(), &old.gid);
        let mut mtime = number(header.mtime(), &old.mtime).map(|t| t as i64);
        let mode = number(header.mode().map(u64::from), &old.mode);
        let size = entry.size();
        if let Some(pax) = &pending.pax {
            for ext in PaxExtensions::new(pax) {
                let ext = ext.map_err(|_| refused(&path, "malformed PAX header"))?;
                let key = ext
                    .key()
                    .map_err(|_| refused(&path, "PAX key is not UTF-8"))?;
                let value = ext.value_bytes();
                let number = || std::str::from_utf8(value).ok();
                match key {
                    "path" => path = value.to_vec(),
                    "linkpath" => link = Some(value.to_vec()),
                    "uid" => uid = number().and_then(|v| v.parse().ok()),
                    "gid" => gid = number().and_then(|v| v.parse().ok()),
                    // Fractions of a second are dropped, as tar's headers have none.
                    "mtime" => mtime = number().and_then(|v| v.split('.').next()?.parse().ok()),
                    "size" if number().and_then(|v| v.parse::<u64>().ok()) != Some(size) => {
                        return Err(refused(&path, "a PAX size that differs from the header's"));
                    }
                    _ => {
                        if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                            xattrs.push((name.to_string(), value.to_vec()));
                        }
                    }
                }
            }
        }
        let shown = String::from_utf8_lossy(&path).into_owned();
        let id = |v: Option<u64>, what| {
            v.and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| refused(&path, what))
        };
        let kind = header.entry_type();
        if kind.is_gnu_sparse() {
            return Err(refused(&path, "GNU sparse files are not supported"));
        }
        let components = components(&path)
            .ok_or_else(|| refused(&path, "a path with '..' leads out of the layer"))?;
        Ok(Entry {
            path: components,
            kind,
            mode: mode.ok_or_else(|| refused(&path, "bad mode"))? as u32 & 0o7777,
            uid: id(uid, "bad uid")?,
            gid: id(gid, "bad gid")?,
            mtime: mtime.ok_or_else(|| refused(&path, "bad mtime"))?,
            device: (
                header.device_major().ok().flatten().unwrap_or(0),
                header.device_minor().ok().flatten().unwrap_or(0),
            ),
            link,
            xattrs,
            shown,
        })
    }
}

/// The components of an entry's path under the layer's root. A leading `/` is dropped (the
/// entry is placed inside the layer, as Docker and GNU tar do); `.` and empty components
/// are skipped; `..` anywhere is refused (`None`).
pub fn components(path: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => out.push(c.to_vec()),
        }
    }
    Some(out)
}

fn read_limited<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Vec<u8>, UnpackError> {
    if entry.size() > EXTENSION_MAX {
        return Err(refused(
            &entry.header().path_bytes(),
            "an extension header larger than 1 MiB",
        ));
    }
    let mut data = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut data).map_err(UnpackError::Read)?;
    Ok(data)
}

pub fn refused(path: &[u8], reason: &'static str) -> UnpackError {
    UnpackError::Refused {
        entry: String::from_utf8_lossy(path).into_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(path: &str) -> Option<Vec<String>> {
        components(path.as_bytes()).map(|v| {
            v.into_iter()
                .map(|c| String::from_utf8(c).unwrap())
                .collect()
        })
    }

    #[test]
    fn paths_stay_inside() {
        assert_eq!(c("./etc/passwd"), Some(vec!["etc".into(), "passwd".into()]));
        assert_eq!(
            c("/etc//passwd/"),
            Some(vec!["etc".into(), "passwd".into()])
        );
        assert_eq!(c("./"), Some(vec![]));
        assert_eq!(c("a/./b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(c("../x"), None);
        assert_eq!(c("a/../../x"), None);
        assert_eq!(c("a/.."), None);
        assert_eq!(c("..."), Some(vec!["...".into()]));
    }
}
