//! Small pieces of HTTP: headers, registries' JSON errors, redirect locations.

pub(super) fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers().get(name)?.to_str().ok().map(str::to_string)
}

/// `": CODE: message"` from a registry's JSON error body, when it has one.
pub(super) fn error_text(resp: &mut ureq::http::Response<ureq::Body>) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let Ok(bytes) = resp.body_mut().with_config().limit(64 << 10).read_to_vec() else {
        return String::new();
    };
    match serde_json::from_slice::<Errors>(&bytes) {
        Ok(e) => e
            .errors
            .iter()
            .map(|e| {
                format!(
                    ": {} {}",
                    e.code.as_deref().unwrap_or(""),
                    e.message.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_string()
            })
            .collect(),
        Err(_) => String::new(),
    }
}

/// A redirect's `Location`, absolute or relative to `from`.
pub(super) fn resolve_location(from: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme_end = from.find("://").map_or(0, |i| i + 3);
    let origin_end = from[scheme_end..]
        .find('/')
        .map_or(from.len(), |i| scheme_end + i);
    if location.starts_with('/') {
        format!("{}{location}", &from[..origin_end])
    } else {
        let dir_end = from.rfind('/').map_or(from.len(), |i| i + 1);
        format!("{}{location}", &from[..dir_end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_locations() {
        let from = "https://reg.example/v2/a/blobs/sha256:x";
        assert_eq!(
            resolve_location(from, "https://cdn.example/b?sig=1"),
            "https://cdn.example/b?sig=1"
        );
        assert_eq!(
            resolve_location(from, "/other/path"),
            "https://reg.example/other/path"
        );
        assert_eq!(
            resolve_location(from, "rel"),
            "https://reg.example/v2/a/blobs/rel"
        );
    }
}
