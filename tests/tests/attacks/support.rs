//! What every attack here shares: a busybox root with default security, `box-probe` read-only
//! at `/probe`, and the probe's `NAME: VALUE` report.

use std::path::{Path, PathBuf};

use box_tests::{busybox_rootfs, copy_libraries, ok, Case};

fn probe() -> &'static str {
    env!("CARGO_BIN_EXE_box-probe")
}

/// A TOML array of strings.
fn array(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A `[[mounts]]` bind of the host's `source` at `target`.
pub fn bind(source: &Path, target: &str, readonly: bool) -> String {
    format!(
        "[[mounts]]\ntype = \"bind\"\nsource = {:?}\ntarget = {target:?}\nreadonly = {readonly}\n",
        source.display().to_string()
    )
}

/// A container to attack from: the busybox root at `<case>/rootfs` (with the probe's shared
/// libraries), nothing in box.toml but `command`, the probe and `mounts` (so every security
/// setting is box's default).
pub struct Attack {
    pub case: Case,
    pub root: PathBuf,
}

impl Attack {
    pub fn new(prefix: &str, command: &[&str], mounts: &str) -> Attack {
        let body = format!(
            "rootfs = \"rootfs\"\ncommand = {}\n{}{mounts}",
            array(command),
            bind(Path::new(probe()), "/probe", true)
        );
        let case = Case::new(prefix, &body);
        let root = busybox_rootfs(case.dir.path());
        copy_libraries(Path::new(probe()), &root);
        Attack { case, root }
    }

    /// The case's directory on the host: the parent of the container's root.
    pub fn dir(&self) -> &Path {
        self.case.dir.path()
    }

    /// Runs the container to its end, expects success and that nothing of it is left.
    pub fn run(&self) -> Report {
        let text = ok(&self.case.up());
        self.case.assert_nothing_left();
        Report::parse(text)
    }
}

/// The probe's `NAME: VALUE` lines, in order.
pub struct Report {
    pub text: String,
    lines: Vec<(String, String)>,
}

impl Report {
    fn parse(text: String) -> Report {
        let lines = text
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect();
        Report { text, lines }
    }

    pub fn get(&self, name: &str) -> &str {
        self.lines
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name:?} in the probe's report:\n{}", self.text))
    }

    /// Every line whose name starts with `prefix`.
    pub fn starting_with<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.lines
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Asserts that `name` failed with `want` (an errno).
    pub fn assert_errno(&self, name: &str, want: i32) {
        let got: i32 = self
            .get(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not an errno:\n{}", self.text));
        assert_eq!(
            got,
            want,
            "{name}: got {} ({}), want {} ({})\n{}",
            got,
            errno_text(got),
            want,
            errno_text(want),
            self.text
        );
    }
}

fn errno_text(n: i32) -> String {
    if n == 0 {
        "success".into()
    } else {
        std::io::Error::from_raw_os_error(n).to_string()
    }
}

/// Asserts that no file `name` exists in any of `dirs` on the host.
pub fn assert_absent(dirs: &[&Path], name: &str) {
    for dir in dirs {
        let path = dir.join(name);
        assert!(
            std::fs::symlink_metadata(&path).is_err(),
            "{} was created on the host",
            path.display()
        );
    }
}
