//! A secret on the host, outside every container, and a file name next to it: an attack that
//! reads the one or creates the other got out.

use std::path::PathBuf;

/// Enough `..` to climb from any directory to the `/` of its tree.
pub const UP: &str = "../../../../../../../../../../../../../../../../../../../../";

pub struct HostSecret {
    dir: tempfile::TempDir,
    pub value: String,
}

impl HostSecret {
    pub fn new() -> HostSecret {
        let dir = tempfile::Builder::new()
            .prefix("boxsecret-")
            .tempdir()
            .expect("create the secret's directory");
        let mut bytes = [0u8; 16];
        let mut urandom = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
        std::io::Read::read_exact(&mut urandom, &mut bytes).expect("read /dev/urandom");
        let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(dir.path().join("secret"), &value).expect("write the secret");
        HostSecret { dir, value }
    }

    /// Where the secret is, on the host.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("secret")
    }

    /// What an attack tries to create on the host.
    pub fn created(&self) -> PathBuf {
        self.dir.path().join("created")
    }

    /// A shell snippet: from its cwd, its `/proc/self/{cwd,root}`, every fd under
    /// `/proc/self/fd` and every process's cwd under `/proc`, climb to `/` and read the
    /// secret's host path, and create the other one.
    pub fn shell_attack(&self) -> String {
        let (secret, created) = (self.path(), self.created());
        let (secret, created) = (
            secret.to_str().expect("utf-8").trim_start_matches('/'),
            created.to_str().expect("utf-8").trim_start_matches('/'),
        );
        format!(
            "for d in . /proc/self/cwd /proc/self/root /proc/self/fd/* /proc/[0-9]*/cwd; do \
             cat \"$d/{UP}{secret}\"; echo pwned > \"$d/{UP}{created}\"; done 2>/dev/null; true"
        )
    }

    /// The host is as it was: the output does not hold the secret, the secret is unchanged,
    /// nothing was created.
    pub fn assert_untouched(&self, output: &str) {
        assert!(
            !output.contains(&self.value),
            "the container read the host's secret:\n{output}"
        );
        assert_eq!(
            std::fs::read_to_string(self.path()).expect("read the secret"),
            self.value,
            "the host's secret changed"
        );
        assert!(
            !self.created().exists(),
            "the container created {} on the host",
            self.created().display()
        );
    }
}
