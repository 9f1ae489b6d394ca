//! The state's directories and the log, made so that no other user can read them and no
//! symlink planted in their place is followed.

use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{fchmod, Mode};

/// Makes `dir` (0700) unless it exists, then makes sure it is a directory, not a symlink, and
/// 0700 (a directory an older box made 0755 included). `parents`: create missing parents too
/// (for the root, a path the user chose).
pub fn private_dir(dir: &Path, parents: bool) -> Result<()> {
    match DirBuilder::new().recursive(parents).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("create {}", dir.display())),
    }
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = open(dir, flags, Mode::empty())
        .map_err(|errno| anyhow!("open state directory {}: {errno}", dir.display()))?;
    fchmod(&fd, Mode::from_bits_truncate(0o700))
        .map_err(|errno| anyhow!("chmod 0700 {}: {errno}", dir.display()))
}

/// Creates `path` as a new, empty file, 0600, opened for appending (close-on-exec). A regular
/// file already there (an earlier container's log) is removed first; anything else there (a
/// symlink, a fifo) is refused.
pub fn create_fresh(path: &Path) -> Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => std::fs::remove_file(path)
            .with_context(|| format!("remove the old {}", path.display()))?,
        Ok(meta) => bail!(
            "{} exists and is not a regular file ({:?}): refusing to write through it",
            path.display(),
            meta.file_type()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("stat {}", path.display())),
    }
    // O_EXCL: whatever appeared meanwhile, this never opens an existing file.
    let file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    // The umask may have taken bits away; the mode is exactly 0600 either way.
    fchmod(&file, Mode::from_bits_truncate(0o600))
        .map_err(|errno| anyhow!("chmod 0600 {}: {errno}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_directory_is_made_private_even_when_it_existed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir, true).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir, false).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_symlink_is_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "host file").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = tmp.path().join("log");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(create_fresh(&link).is_err());
        assert!(private_dir(&link, false).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host file");
        assert_eq!(mode(&victim), 0o644);
    }

    #[test]
    fn a_log_starts_empty_and_private() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("log");
        std::fs::write(&log, "old").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o4755)).unwrap();
        let mut file = create_fresh(&log).unwrap();
        std::io::Write::write_all(&mut file, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "new");
        assert_eq!(mode(&log), 0o600);
    }
}
