//! Docker Hub mirrors (Docker's `registry-mirrors`): a pull of a `docker.io` image asks each
//! mirror in turn, then Docker Hub itself. Docker's rules: a mirror is `http://` or
//! `https://` and a host (with a port), no path, query or user; it serves Hub's repositories
//! under the same names (`library/ubuntu`); a mirror that cannot be reached, or does not
//! have the manifest, is passed over for the next. Plain HTTP goes only to an insecure
//! host (loopback, or one listed as insecure), as for registries.

use std::fmt;

use super::is_insecure;
use crate::error::Error;

/// One mirror: `https://mirror.example.com`, `http://127.0.0.1:5000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// Plain HTTP (`http://`) rather than HTTPS.
    pub plain_http: bool,
    /// `host` or `host:port` (`[v6]:port`).
    pub host: String,
}

impl Mirror {
    /// Parses a mirror's URL by Docker's rules; the error says what is wrong with it.
    pub fn parse(url: &str) -> Result<Mirror, String> {
        let bad = |why: &str| format!("registry mirror {url:?}: {why}");
        let (plain_http, rest) = match url.split_once("://") {
            Some(("http", rest)) => (true, rest),
            Some(("https", rest)) => (false, rest),
            _ => return Err(bad("must start with http:// or https://")),
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.contains(['/', '?', '#']) {
            return Err(bad("a mirror is a host: no path, query or fragment"));
        }
        if host.contains('@') {
            return Err(bad("no user in the URL (credentials go in the auth file)"));
        }
        let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]_".contains(c);
        if host.is_empty() || !host.chars().all(plain) {
            return Err(bad("not a host or host:port"));
        }
        Ok(Mirror {
            plain_http,
            host: host.to_string(),
        })
    }
}

impl Mirror {
    /// Refuses plain HTTP to a host that is not insecure (a configuration error, not a
    /// mirror to pass over).
    pub fn check(&self, insecure: &[String]) -> Result<(), Error> {
        if self.plain_http && !is_insecure(&self.host, insecure) {
            return Err(Error::Registry {
                registry: self.to_string(),
                step: "registry mirror".into(),
                message: "plain HTTP only to an insecure registry: a loopback address, or one \
                          given with --insecure-registry or $BOX_INSECURE_REGISTRIES"
                    .into(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.plain_http { "http" } else { "https" };
        write!(f, "{scheme}://{}", self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_url_rules() {
        let m = Mirror::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!((m.plain_http, m.host.as_str()), (true, "127.0.0.1:5000"));
        assert_eq!(m.to_string(), "http://127.0.0.1:5000");
        let m = Mirror::parse("https://mirror.gcr.io").unwrap();
        assert_eq!((m.plain_http, m.host.as_str()), (false, "mirror.gcr.io"));
        assert_eq!(
            Mirror::parse("https://[::1]:5000").unwrap().host,
            "[::1]:5000"
        );
        for bad in [
            "mirror.example.com",
            "ftp://mirror.example.com",
            "https://mirror.example.com/v2/",
            "https://mirror.example.com?x=1",
            "https://user:pw@mirror.example.com",
            "https://",
            "https://a b",
        ] {
            assert!(Mirror::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_only_to_an_insecure_host() {
        let none: Vec<String> = vec![];
        assert!(Mirror::parse("http://127.0.0.1:5000")
            .unwrap()
            .check(&none)
            .is_ok());
        let lan = Mirror::parse("http://mirror.lan:5000").unwrap();
        let err = lan.check(&none).unwrap_err().to_string();
        assert!(
            err.contains("plain HTTP only to an insecure registry"),
            "{err}"
        );
        assert!(lan.check(&["mirror.lan:5000".into()]).is_ok());
        assert!(Mirror::parse("https://mirror.lan")
            .unwrap()
            .check(&none)
            .is_ok());
    }
}
