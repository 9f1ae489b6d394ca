//! An image ready to run: its record, its configuration, its layer directories, and files
//! read through the layers as the container's overlay root will show them (for the user
//! lookup in `/etc/passwd` before anything is mounted).

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag};

use super::records::ImageRecord;
use super::Store;
use crate::config::ImageConfig;
use crate::error::{io_err, Error, Result};
use crate::process::{plan, Overrides, PlanError, ProcessPlan};
use crate::unpack::fs;
use crate::user::{resolve, Identity};

/// The most box reads of `/etc/passwd` or `/etc/group`.
const ACCOUNTS_MAX: u64 = 4 << 20;

/// An image in the store, with everything a container on it needs.
#[derive(Debug, Clone)]
pub struct Image {
    pub record: ImageRecord,
    /// The layers' directories, bottom first (overlayfs's `lowerdir` lists them top first).
    pub layers: Vec<PathBuf>,
}

impl Store {
    /// The image `query` names, with every layer present. Reads only `images.json` (and
    /// checks the layer directories): the start of a container stays light.
    pub fn image(&self, query: &str) -> Result<Image> {
        let record = self.find(query)?;
        let mut layers = Vec::with_capacity(record.layers.len());
        for layer in &record.layers {
            if !self.has_layer(&layer.diff_id) {
                return Err(Error::Manifest {
                    image: record.shown(),
                    reason: format!(
                        "layer {} is missing from the store: pull or load it again",
                        layer.diff_id
                    ),
                });
            }
            layers.push(self.layer_path(&layer.diff_id));
        }
        Ok(Image { record, layers })
    }
}

impl Image {
    /// The image's configuration.
    pub fn config(&self) -> &ImageConfig {
        &self.record.config
    }

    /// What a container on the image runs, with `over` (the container's own settings) taking
    /// precedence by Docker's rules ([`crate::process`]).
    pub fn plan(&self, over: &Overrides) -> Result<ProcessPlan, PlanError> {
        plan(&self.record.config, over)
    }

    /// Resolves a user spec (`None`: root) in the image's `/etc/passwd` and `/etc/group`.
    pub fn identity(&self, spec: Option<&str>) -> Result<Identity> {
        let text = |path: &str| -> Result<Option<String>> {
            Ok(self
                .read_file(path)?
                .map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
        let (passwd, group) = (text("etc/passwd")?, text("etc/group")?);
        resolve(spec, passwd.as_deref(), group.as_deref()).map_err(|e| Error::Manifest {
            image: self.record.shown(),
            reason: e.to_string(),
        })
    }

    /// Reads `path` (relative to `/`) as the merged root shows it: from the top layer that has
    /// it, unless a whiteout or an opaque directory hides the lower ones. A symlink on the
    /// way is refused (box never follows an image's links on the host).
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let parts: Vec<&[u8]> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::as_bytes)
            .collect();
        let Some((name, dirs)) = parts.split_last() else {
            return Ok(None);
        };
        let refuse = |reason: &str| Error::Manifest {
            image: self.record.shown(),
            reason: format!("/{path}: {reason}"),
        };
        'layers: for layer in self.layers.iter().rev() {
            let fail = |errno: Errno| io_err("read through layer", layer)(errno.into());
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let mut dir: OwnedFd = nix::fcntl::open(layer, flags, Mode::empty()).map_err(fail)?;
            let mut opaque = false;
            for (i, &component) in parts.iter().enumerate() {
                let last = i == dirs.len();
                // One stat per component: its type, and whether it is a whiteout.
                let st = match nix::sys::stat::fstatat(
                    dir.as_fd(),
                    fs::os(component),
                    nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                ) {
                    Ok(st) => st,
                    Err(Errno::ENOENT) if opaque => return Ok(None),
                    Err(Errno::ENOENT) => continue 'layers,
                    Err(errno) => return Err(fail(errno)),
                };
                if fs::stat_is_whiteout(&st) {
                    return Ok(None);
                }
                let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
                match kind {
                    SFlag::S_IFLNK => {
                        return Err(refuse(
                            "a symlink on the way (box does not follow an image's links)",
                        ))
                    }
                    SFlag::S_IFDIR if !last => {
                        dir = fs::open_dir(dir.as_fd(), &[component]).map_err(fail)?;
                        opaque = opaque
                            || fs::get_xattr(dir.as_fd(), fs::OPAQUE_XATTR)
                                .map_err(fail)?
                                .is_some_and(|v| v == b"y");
                    }
                    // A file where a directory was expected hides lower layers' directory.
                    _ if !last => return Ok(None),
                    SFlag::S_IFREG => {
                        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                        let fd =
                            nix::fcntl::openat(dir.as_fd(), fs::os(name), flags, Mode::empty())
                                .map_err(fail)?;
                        let mut bytes = Vec::new();
                        std::fs::File::from(fd)
                            .take(ACCOUNTS_MAX + 1)
                            .read_to_end(&mut bytes)
                            .map_err(io_err("read through layer", layer))?;
                        if bytes.len() as u64 > ACCOUNTS_MAX {
                            return Err(refuse("larger than 4 MiB"));
                        }
                        return Ok(Some(bytes));
                    }
                    _ => return Err(refuse("not a regular file")),
                }
            }
        }
        Ok(None)
    }
}
