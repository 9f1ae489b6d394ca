//! Where `box load` reads from: a directory, or a tar file (gzip- or zstd-compressed ones are
//! first decompressed into the store's `tmp/`), both seen as named files. A directory's
//! files are opened beneath it without following symlinks; a tar's are read in place.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::compression::{decompress, Compression};
use crate::error::{io_err, Error, Result};
use crate::registry::MANIFEST_MAX;
use crate::store::Store;

/// The files of an archive, by name (`index.json`, `blobs/sha256/HEX`, `ID/layer.tar`).
pub enum Source {
    Dir {
        path: PathBuf,
        fd: OwnedFd,
    },
    Tar {
        path: PathBuf,
        file: Arc<File>,
        /// Offset and size of each regular file's data.
        entries: HashMap<String, (u64, u64)>,
        /// A decompressed copy in the store's tmp/, removed on drop.
        _tmp: Option<TmpFile>,
    },
}

pub struct TmpFile(PathBuf);

impl Drop for TmpFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Source {
    pub fn open(path: &Path, store: &Store) -> Result<Source> {
        let meta = std::fs::metadata(path).map_err(io_err("open archive", path))?;
        if meta.is_dir() {
            let fd = nix::fcntl::open(
                path,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io_err("open archive", path)(e.into()))?;
            return Ok(Source::Dir {
                path: path.into(),
                fd,
            });
        }
        let mut file = File::open(path).map_err(io_err("open archive", path))?;
        let mut head = [0u8; 4];
        let n = file.read(&mut head).map_err(io_err("read archive", path))?;
        let (file, tmp) = match Compression::sniff(&head[..n]) {
            Compression::None => (
                File::open(path).map_err(io_err("open archive", path))?,
                None,
            ),
            _ => {
                let tmp_path = store.tmp_path("load");
                let tmp = TmpFile(tmp_path.clone());
                let (mut reader, _) =
                    decompress(File::open(path).map_err(io_err("open archive", path))?)
                        .map_err(io_err("decompress archive", path))?;
                let mut out =
                    File::create(&tmp_path).map_err(io_err("decompress archive", &tmp_path))?;
                io::copy(&mut reader, &mut out).map_err(io_err("decompress archive", path))?;
                (
                    File::open(&tmp_path).map_err(io_err("decompress archive", &tmp_path))?,
                    Some(tmp),
                )
            }
        };
        let entries = index(&file).map_err(|e| Error::Archive {
            path: path.into(),
            reason: format!("not a tar archive: {e}"),
        })?;
        Ok(Source::Tar {
            path: path.into(),
            file: Arc::new(file),
            entries,
            _tmp: tmp,
        })
    }

    pub fn path(&self) -> &Path {
        match self {
            Source::Dir { path, .. } | Source::Tar { path, .. } => path,
        }
    }

    /// The file `name`, with its size; `None` when the archive has none.
    pub fn open_file(&self, name: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let name = normalize(name);
        match self {
            Source::Dir { path, fd } => {
                let how = OpenHow::new()
                    .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC)
                    .resolve(
                        ResolveFlag::RESOLVE_BENEATH
                            | ResolveFlag::RESOLVE_NO_SYMLINKS
                            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
                    );
                match nix::fcntl::openat2(fd.as_fd(), name.as_str(), how) {
                    Ok(f) => {
                        let file = File::from(f);
                        let meta = file.metadata().map_err(io_err("stat", path.join(&name)))?;
                        if !meta.is_file() {
                            return Ok(None);
                        }
                        Ok(Some((Box::new(file), meta.len())))
                    }
                    Err(nix::errno::Errno::ENOENT) => Ok(None),
                    Err(e) => Err(io_err("open", path.join(&name))(e.into())),
                }
            }
            Source::Tar { file, entries, .. } => Ok(entries.get(&name).map(|&(offset, size)| {
                let reader: Box<dyn Read + Send> = Box::new(ReadAt {
                    file: file.clone(),
                    pos: offset,
                    end: offset + size,
                });
                (reader, size)
            })),
        }
    }

    /// A small file read whole (a manifest, `index.json`), at most `max` bytes.
    pub fn read_small(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let Some((reader, size)) = self.open_file(name)? else {
            return Ok(None);
        };
        if size > max {
            return Err(Error::Archive {
                path: self.path().into(),
                reason: format!("{name} is larger than {max} bytes"),
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .take(max)
            .read_to_end(&mut bytes)
            .map_err(io_err("read", self.path().join(name)))?;
        Ok(Some(bytes))
    }

    /// The archive's table of contents (`manifest.json`, `index.json`), parsed: that it is
    /// missing or not what `T` describes is an error naming the archive and the file.
    pub fn read_toc<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let bad = |reason: String| Error::Archive {
            path: self.path().into(),
            reason,
        };
        let text = self
            .read_small(name, MANIFEST_MAX)?
            .ok_or_else(|| bad(format!("{name} is missing")))?;
        serde_json::from_slice(&text).map_err(|e| bad(format!("{name}: {e}")))
    }
}

/// `./a//b` → `a/b`.
fn normalize(name: &str) -> String {
    name.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The regular files of a tar, by normalized name.
fn index(file: &File) -> io::Result<HashMap<String, (u64, u64)>> {
    let mut archive = tar::Archive::new(file);
    let mut entries = HashMap::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        if entry.header().entry_type().is_file() {
            let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
    }
    Ok(entries)
}

/// One tar member, read with `pread` so that several layers can be read at once.
struct ReadAt {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive member truncated",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}
