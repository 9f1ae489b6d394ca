//! `init = true` (`box run --init`): box-init, a tiny static init (`cli/init/main.rs`, built
//! by build.rs and embedded here), runs as the container's PID 1 and starts the command.
//!
//! How it gets into the container, safely: box writes a copy of the embedded bytes once to
//! [`host_path`] (root's, mode 0555, named by its content's hash, replaced by rename when it
//! differs), and the container gets a read-only bind of that copy at [`IN_CONTAINER`], on its
//! own `/dev` tmpfs (nothing is created in the container's root). Never box's own binary:
//! runc's CVE-2019-5736 was a container overwriting the runtime through `/proc/PID/exe`.
//! Here `/proc/1/exe` is the copy; the container cannot write it (a read-only mount it cannot
//! remount without CAP_SYS_ADMIN; ETXTBSY while it runs), and even if it could, box's binary
//! is untouched and the next start finds a copy whose bytes differ and replaces it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// Where the container sees box-init.
pub const IN_CONTAINER: &str = "/dev/init";

/// box-init itself.
const BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/box-init"));

/// The host's copy: on the root filesystem (where programs may run: `/run` and `/tmp` are
/// often `noexec`, which a bind keeps).
pub fn host_path() -> PathBuf {
    PathBuf::from(format!(
        "/var/lib/box/init/box-init-{}",
        env!("BOX_INIT_HASH")
    ))
}

/// Makes sure [`host_path`] holds box-init's bytes, executable and read-only.
pub fn install() -> Result<PathBuf, String> {
    let path = host_path();
    if std::fs::read(&path).is_ok_and(|b| b == BYTES) {
        return Ok(path);
    }
    let fail = |what: &str, e: std::io::Error| format!("init: {what} {}: {e}", path.display());
    let dir = path.parent().unwrap_or(std::path::Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", e))?;
    let tmp = dir.join(format!(".box-init-{}", std::process::id()));
    let mut file = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o555)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(|e| fail("write", e))?;
    file.write_all(BYTES).map_err(|e| fail("write", e))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o555))
        .map_err(|e| fail("chmod", e))?;
    file.sync_all().map_err(|e| fail("sync", e))?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(|e| fail("rename into", e))?;
    Ok(path)
}
