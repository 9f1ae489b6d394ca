//! Platforms (`linux/amd64`, `linux/arm/v7`) and the choice of one manifest from an image
//! index or a Docker manifest list, the way containerd's default matcher chooses: the same OS
//! and architecture, the host's variant first, then an entry that names no variant, then (for
//! 32-bit ARM) an older variant the host can run.

use std::fmt;

use oci_spec::image::{Descriptor, ImageIndex};

/// An OS, architecture and variant, in the Go names images use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform box runs on: Linux and this binary's architecture.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "x86" => ("386", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
            "powerpc64" => ("ppc64", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            "loongarch64" => ("loong64", None),
            "mips64" if cfg!(target_endian = "little") => ("mips64le", None),
            other => (other, None),
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: variant.map(str::to_string),
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Option<Platform> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let architecture = parts.next().filter(|s| !s.is_empty())?;
        let variant = parts.next().map(str::to_string);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant,
        })
    }

    fn of(desc: &Descriptor) -> Option<Platform> {
        let p = desc.platform().as_ref()?;
        Some(Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone().filter(|v| !v.is_empty()),
        })
    }

    /// How well an entry of `self`'s OS and architecture fits this (host) platform; `None`
    /// when the host cannot run it.
    fn score(&self, entry: &Platform) -> Option<u8> {
        if entry.os != self.os || entry.architecture != self.architecture {
            return None;
        }
        let normalize = |v: &Option<String>| match (self.architecture.as_str(), v.as_deref()) {
            ("arm64", Some("v8")) => None,
            (_, v) => v.map(str::to_string),
        };
        let (want, have) = (normalize(&self.variant), normalize(&entry.variant));
        match (want, have) {
            (w, h) if w == h => Some(3),
            (_, None) => Some(2),
            (Some(w), Some(h)) if self.architecture == "arm" && arm_level(&h) < arm_level(&w) => {
                Some(1)
            }
            _ => None,
        }
    }
}

fn arm_level(variant: &str) -> u8 {
    variant
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or(u8::MAX)
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The best entry of `index` for `platform`, or the list of platforms it offers.
pub fn select<'a>(index: &'a ImageIndex, platform: &Platform) -> Result<&'a Descriptor, String> {
    let mut best: Option<(u8, &Descriptor)> = None;
    for desc in index.manifests() {
        let Some(entry) = Platform::of(desc) else {
            continue;
        };
        if let Some(score) = platform.score(&entry) {
            if best.map_or(true, |(s, _)| score > s) {
                best = Some((score, desc));
            }
        }
    }
    best.map(|(_, d)| d).ok_or_else(|| {
        let offered: Vec<String> = index
            .manifests()
            .iter()
            .filter_map(Platform::of)
            .filter(|p| p.os != "unknown")
            .map(|p| p.to_string())
            .collect();
        if offered.is_empty() {
            "none".to_string()
        } else {
            offered.join(", ")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(platforms: &[&str]) -> ImageIndex {
        let manifests: Vec<String> = platforms
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = Platform::parse(p).unwrap();
                let variant = p
                    .variant
                    .map(|v| format!(r#","variant":"{v}""#))
                    .unwrap_or_default();
                format!(
                    r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,
                    "digest":"sha256:{:064x}","platform":{{"os":"{}","architecture":"{}"{variant}}}}}"#,
                    i + 1,
                    p.os,
                    p.architecture
                )
            })
            .collect();
        let text = format!(
            r#"{{"schemaVersion":2,"manifests":[{}]}}"#,
            manifests.join(",")
        );
        serde_json::from_str(&text).unwrap()
    }

    fn chosen(platforms: &[&str], host: &str) -> Result<usize, String> {
        let idx = index(platforms);
        let d = select(&idx, &Platform::parse(host).unwrap())?;
        Ok(usize::from_str_radix(d.digest().digest(), 16).unwrap() - 1)
    }

    #[test]
    fn the_host_platform_is_linux_in_go_names() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(host.to_string(), "linux/amd64");
        }
    }

    #[test]
    fn selection_prefers_the_exact_variant() {
        let list = [
            "linux/arm/v6",
            "linux/amd64",
            "linux/arm/v7",
            "linux/arm64/v8",
        ];
        assert_eq!(chosen(&list, "linux/amd64"), Ok(1));
        assert_eq!(chosen(&list, "linux/arm/v7"), Ok(2));
        assert_eq!(chosen(&list, "linux/arm/v6"), Ok(0));
        assert_eq!(chosen(&list, "linux/arm64/v8"), Ok(3));
        assert_eq!(chosen(&["linux/arm64"], "linux/arm64/v8"), Ok(0));
        assert_eq!(
            chosen(&["linux/arm/v6", "linux/arm"], "linux/arm/v7"),
            Ok(1)
        );
        assert_eq!(chosen(&["linux/arm/v6"], "linux/arm/v7"), Ok(0));
    }

    #[test]
    fn no_match_lists_what_is_offered() {
        let list = ["linux/arm/v7", "windows/amd64", "unknown/unknown"];
        assert_eq!(
            chosen(&list, "linux/amd64"),
            Err("linux/arm/v7, windows/amd64".into())
        );
        assert_eq!(
            chosen(&["linux/arm/v8"], "linux/arm/v7"),
            Err("linux/arm/v8".into())
        );
        assert_eq!(chosen(&[], "linux/amd64"), Err("none".into()));
    }
}
