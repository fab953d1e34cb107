//! The NATS settings loadgen and its NATS plugins read from the environment
//! (SPEC §6), so every component agrees on defaults and on never showing
//! credentials.

/// `$NATS_URL`, or `nats://127.0.0.1:4222`.
pub fn nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into())
}

/// `$NATS_CREDS_FILE`, if set. Its path may be shown; its contents never.
pub fn nats_creds_file() -> Option<std::path::PathBuf> {
    std::env::var_os("NATS_CREDS_FILE")
        .filter(|p| !p.is_empty())
        .map(Into::into)
}

/// A URL fit for messages: any `user:password@` or `token@` replaced by `***@`.
pub fn redact_url(url: &str) -> String {
    let Some(at) = url.rfind('@') else {
        return url.to_string();
    };
    match url.find("://") {
        Some(scheme) if at > scheme => format!("{}://***@{}", &url[..scheme], &url[at + 1..]),
        Some(_) => url.to_string(),
        None => format!("***@{}", &url[at + 1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_never_shown() {
        let table = [
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
            ("nats://alice:s3cret@host:4222", "nats://***@host:4222"),
            ("tls://tok@host:4222", "tls://***@host:4222"),
            ("token@host:4222", "***@host:4222"),
            ("http://h:8222/jsz", "http://h:8222/jsz"),
        ];
        for (url, want) in table {
            assert_eq!(redact_url(url), want);
        }
    }
}
