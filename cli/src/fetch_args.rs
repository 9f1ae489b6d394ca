//! The options of `box pull` and `box load`, declared once: `box` parses them (for its help and
//! its errors) and hands them on to `box-fetch`, which parses the same structs back.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Subcommand};

/// What `box-fetch` does, as `box` asks it: `box-fetch [--store DIR] pull|load …`.
#[derive(Debug, Subcommand)]
pub enum FetchCommand {
    /// Pull an image from a registry.
    Pull(PullArgs),
    /// Load images from an archive or an OCI image layout.
    Load(LoadArgs),
}

/// `box pull`'s options.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct PullArgs {
    /// `busybox`, `docker.io/library/ubuntu:24.04`, `host:5000/app@sha256:…`.
    pub reference: String,
    /// A registry (`host` or `host:port`) to reach over plain HTTP or unverified HTTPS;
    /// localhost is always allowed (also `$BOX_INSECURE_REGISTRIES`, comma-separated).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure: Vec<String>,
    /// A Docker Hub mirror (`https://HOST[:PORT]`, `http://` for an insecure one), asked
    /// before Docker Hub for docker.io images (also `$BOX_REGISTRY_MIRRORS`, comma-separated).
    #[arg(long = "registry-mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// The platform to pull from a multi-platform image (default: this host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// No progress, whatever the terminal.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `box load`'s options.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct LoadArgs {
    /// A `docker save` archive or an OCI image layout (a directory or a tar).
    pub file: PathBuf,
    /// The platform to load from a multi-platform image (default: this host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// No progress, whatever the terminal.
    #[arg(short, long)]
    pub quiet: bool,
}

impl PullArgs {
    /// `pull` and the options as `box-fetch` takes them back.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["pull".into()];
        for host in &self.insecure {
            args.extend(["--insecure-registry".into(), host.into()]);
        }
        for url in &self.mirrors {
            args.extend(["--registry-mirror".into(), url.into()]);
        }
        common(&mut args, self.platform.as_deref(), self.quiet);
        args.extend(["--".into(), (&self.reference).into()]);
        args
    }
}

impl LoadArgs {
    /// `load` and the options as `box-fetch` takes them back.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["load".into()];
        common(&mut args, self.platform.as_deref(), self.quiet);
        args.extend(["--".into(), self.file.clone().into()]);
        args
    }
}

fn common(args: &mut Vec<OsString>, platform: Option<&str>, quiet: bool) {
    args.extend(platform.map(|p| format!("--platform={p}").into()));
    args.extend(quiet.then(|| "--quiet".into()));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Fetch {
        #[command(subcommand)]
        command: FetchCommand,
    }

    fn parse(args: Vec<OsString>) -> FetchCommand {
        let argv = std::iter::once(OsString::from("box-fetch")).chain(args);
        Fetch::try_parse_from(argv).unwrap().command
    }

    /// Every option survives the trip to box-fetch, a reference or file that looks like an
    /// option included.
    #[test]
    fn what_box_hands_on_parses_back_the_same() {
        let pull = PullArgs {
            reference: "-busybox".into(),
            insecure: vec!["a:5000".into(), "b".into()],
            mirrors: vec!["https://m".into()],
            platform: Some("linux/arm64/v8".into()),
            quiet: true,
        };
        let FetchCommand::Pull(back) = parse(pull.to_args()) else {
            panic!("not a pull")
        };
        assert_eq!(back, pull);
        let bare = PullArgs {
            reference: "busybox".into(),
            insecure: vec![],
            mirrors: vec![],
            platform: None,
            quiet: false,
        };
        let FetchCommand::Pull(back) = parse(bare.to_args()) else {
            panic!("not a pull")
        };
        assert_eq!(back, bare);
        let load = LoadArgs {
            file: "--x.tar".into(),
            platform: Some("linux/amd64".into()),
            quiet: true,
        };
        let FetchCommand::Load(back) = parse(load.to_args()) else {
            panic!("not a load")
        };
        assert_eq!(back, load);
    }
}
